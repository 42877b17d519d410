"""analytics: compliance estimates, performance measures, the warehouse and report cards.

Public surface (modules are imported by name; nothing heavy is imported here)::

    compliance.entry_outcomes(findings) / truth_outcomes(truth)   # per entry: discrepancy, MTD, loss
    compliance.entry_attributes(entries, lines, parties)          # breakout columns per entry
    compliance.measurement_frame(decisions, outcomes, attributes) # population + sample + outcome
    compliance.estimate_compliance(frame) -> ComplianceEstimates  # rates, revenue gap, breakouts
    measures.mtd_over_time / clearance_speed / trusted_verification_share /
        prioritized_partnership_share / enforcement_yield / targeting_efficiency
    warehouse.export_warehouse(url, out)                          # Parquet by month, incremental
    report_cards.connect(dir); port_card / pti_card / importer_card; *_card_sql; card_figure
    report.build_report(dir, start, end) -> Report; render_html(report); write_report(...)

Commands: ``tradeguard warehouse export`` and ``tradeguard report`` (``commands.py``).
"""
