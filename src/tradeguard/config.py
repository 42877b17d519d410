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
        default=Path("tradeguard.sqlite"), description="SQLite file used when database_url is unset."
    )

    # reference data: each file may be replaced by the user's own
    hts_file: Path | None = Field(default=None, description="USITC HTS CSV export to use.")
    countries_file: Path | None = Field(default=None, description="Country codes CSV.")
    ports_file: Path | None = Field(default=None, description="Ports of entry CSV.")
    spi_file: Path | None = Field(default=None, description="SPI programs CSV.")
    fees_file: Path | None = Field(default=None, description="Fees by fiscal year CSV.")
    adcvd_file: Path | None = Field(default=None, description="AD/CVD orders CSV.")
    additional_duties_file: Path | None = Field(
        default=None, description="Chapter 99 additional duties CSV."
    )

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
