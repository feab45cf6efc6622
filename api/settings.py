"""Typed service settings, read from the environment (never at import time).

``create_app`` takes a ``Settings`` so tests and the CLI can inject their own;
``get_settings()`` builds one from the environment on demand. Production
refuses to start with the development secret, because a known secret would
let anyone mint admin tokens.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from optimiser.schema import known_timezone

DEFAULT_SECRET_KEY = "dev-insecure-secret-change-me"


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    database_url: str = "sqlite:///./fieldplan.db"
    secret_key: str = DEFAULT_SECRET_KEY
    environment: Literal["development", "production"] = "development"
    access_token_expire_min: int = Field(default=60, ge=1)
    geocoder: str = "offline"
    geocoder_user_agent: str = "fieldplan"
    plan_time_limit_s: float = Field(default=30, gt=0)
    job_backend: Literal["inprocess", "celery"] = "inprocess"
    job_workers: int = Field(default=1, ge=1)
    redis_url: str = "redis://127.0.0.1:6379/0"
    escalation_interval_s: float = Field(default=60, ge=0)
    auto_replan_on_emergency: bool = False
    # Plan jobs (api/plans): local days are counted in planning_timezone; a running
    # job whose heartbeat is older than plan_job_stale_s is re-queued (while it has
    # attempts left) or failed by the reaper, which runs every reaper interval.
    planning_timezone: str = "UTC"
    plan_job_heartbeat_s: float = Field(default=2, gt=0)
    plan_job_stale_s: float = Field(default=60, gt=0)
    plan_job_reaper_interval_s: float = Field(default=30, gt=0)
    plan_job_max_attempts: int = Field(default=2, ge=1)
    celery_queue: str = Field(default="plans", min_length=1)
    # Background jobs (escalation ticker, plan worker) start in the lifespan when
    # true; tests switch them off and drive the jobs explicitly.
    background_jobs: bool = True

    @field_validator("planning_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return known_timezone(value)

    @field_validator("geocoder")
    @classmethod
    def _known_geocoder(cls, value: str) -> str:
        """Refuse an unknown provider at start-up, not as a 500 on the first address."""
        from geopy.exc import GeocoderNotFound
        from geopy.geocoders import get_geocoder_for_service

        name = value.strip().lower()
        if name != "offline":
            try:
                get_geocoder_for_service(name)
            except GeocoderNotFound as exc:
                raise ValueError(f"unknown geocoder {value!r}: use 'offline' or a geopy "
                                 f"service name such as 'nominatim'") from exc
        return value

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "SECRET_KEY must be set to a private value when ENVIRONMENT=production"
            )
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters in production")
        return self


def get_settings() -> Settings:
    """Settings from the current environment (a fresh object each call: cheap, no globals)."""
    return Settings()
