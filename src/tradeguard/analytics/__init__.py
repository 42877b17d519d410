"""analytics: compliance estimates, performance measures, the warehouse and report cards.

Public surface (modules are imported by name; nothing heavy is imported here)::

    compliance.entry_outcomes(findings) / truth_outcomes(truth)   # per entry: discrepancy, MTD, loss
    compliance.entry_attributes(entries, lines, parties)          # breakout columns per entry
    compliance.measurement_frame(decisions, outcomes, attributes) # population + sample + outcome
    compliance.estimate_compliance(frame) -> ComplianceEstimates  # rates, revenue gap, breakouts
    measures.mtd_over_time / clearance_speed / trusted_verification_share /
        prioritized_partnership_share / enforcement_yield / targeting_efficiency
    warehouse.export_warehouse(url, out)                          # Parquet by month, incremental
    freshness.warehouse_for(dir, url).refresh() / .run(fn)        # a reader's up-to-date view
    report_cards.connect(dir); run(con, sql, **params); card_figure
    cards.build_card(con, kind, key, start, end) -> Card          # port | pti | importer | all
    report.build_report(dir, start, end) -> Report; render_html(report); write_report(...)
    coverage.window(seed); coverage.check(window)                 # intervals vs generated truth

Commands: ``tradeguard warehouse export`` and ``tradeguard report`` (``commands.py``).
"""
