"""Settings, read from ``TRADEGUARD_*`` environment variables (and a ``.env`` file) at the edges.

Every setting is documented in README.md; a test fails when one is not.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRADEGUARD_", env_file=".env", extra="ignore")

    # system of record
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the system of record; unset means the SQLite file below.",
    )
    sqlite_path: Path = Field(
        default=Path("tradeguard.sqlite"),
        description="SQLite file used when database_url is unset.",
    )

    # reference data: each file may be replaced by the user's own
    hts_file: Path | None = Field(default=None, description="USITC HTS CSV export to use.")
    countries_file: Path | None = Field(default=None, description="Country codes CSV.")
    ports_file: Path | None = Field(default=None, description="Ports of entry CSV.")
    spi_file: Path | None = Field(default=None, description="SPI programs CSV.")
    fees_file: Path | None = Field(default=None, description="Fees by fiscal year CSV.")
    fees_carry_forward: bool = Field(
        default=True,
        description=(
            "When a fiscal year's MPF/HMF values are not loaded yet, price with the latest "
            "earlier loaded year's values and flag the result provisional; false refuses."
        ),
    )
    adcvd_file: Path | None = Field(default=None, description="AD/CVD orders CSV.")
    additional_duties_file: Path | None = Field(
        default=None, description="Chapter 99 additional duties CSV."
    )

    # lanes (decisions): per-port daily capacity, thresholds, random compliance sample
    lane_exam_capacity: int = Field(
        default=5, ge=0, description="Default exams per port per day (targeted selections)."
    )
    lane_review_capacity: int = Field(
        default=10, ge=0, description="Default document reviews per port per day."
    )
    lane_capacity_file: Path | None = Field(
        default=None,
        description="YAML or CSV of per-port capacities (port_code, exam, review, group).",
    )
    lane_exam_threshold: float = Field(
        default=0.2, ge=0, le=1, description="Lowest entry score that may be sent to exam."
    )
    lane_review_threshold: float = Field(
        default=0.1, ge=0, le=1, description="Lowest entry score that may be sent to review."
    )
    lane_audit_threshold: float = Field(
        default=0.15, ge=0, le=1, description="Entry score above which a released entry is audited."
    )
    lane_random_rate: float = Field(
        default=0.005, ge=0, le=1, description="Random compliance-measurement sample rate."
    )

    # HTTP API (tradeguard serve)
    secret_key: str = Field(
        default="change-me-in-production",
        description="Key that signs portal session cookies and CSRF tokens; set it in production.",
    )
    token_ttl_minutes: int = Field(
        default=480, ge=1, description="Lifetime of a bearer token issued by /api/v1/auth/token."
    )
    max_request_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest request body accepted (413 beyond)."
    )
    max_upload_bytes: int = Field(
        default=5_000_000, ge=1024, description="Largest CSV/Parquet batch upload accepted."
    )
    page_max: int = Field(default=200, ge=1, description="Largest page size of any list route.")
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per username or IP before 429."
    )
    login_window_seconds: int = Field(
        default=900, ge=1, description="Window over which failed logins are counted."
    )
    bundle_dir: Path | None = Field(
        default=None,
        description="Scoring bundle directory the API scores with; unset uses the built-in rules.",
    )
    targeting_check_seconds: float = Field(
        default=2.0,
        ge=0,
        description=(
            "How often the service checks the system of record for saved or retired rules, a "
            "promoted model, watch lists and new outcomes (0: before every score)."
        ),
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description=(
            "How long an API worker trusts a bearer token it has checked (never past its "
            "expiry); a token revoked through another worker stops working within this time. "
            "0 checks every request against the database."
        ),
    )
    history_refresh_seconds: float = Field(
        default=300.0,
        ge=0,
        description=(
            "Shortest time between two rebuilds of the history features from the recorded "
            "outcomes, allegations and entity links (rebuilt in the background)."
        ),
    )

    warehouse_dir: Path = Field(
        default=Path("warehouse"),
        description=(
            "Analytics warehouse (Parquet by month) that `tradeguard warehouse export` writes "
            "and the portal's report cards read; the portal brings it up to date on demand."
        ),
    )

    rule_review_min_inspections: int = Field(
        default=30,
        ge=1,
        description="Inspected entries a rule needs before its yield can flag it for review.",
    )
    rule_review_min_yield: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Yield (findings per inspected entry) below which a rule is flagged.",
    )

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
