"""Seeded generator of realistic field-service days in Greater London.

Why: the optimiser, its benchmarks and the API demo need days that look like a
real service desk's: technicians living all over the metro area with a few
skills at different levels, territories, 08:00-17:00 shifts with a lunch break,
customers on gold / silver / bronze contracts whose cover hours and minimum
technician level matter, AM / PM / two-hour booking slots, SLA deadlines by
priority, a few already-dispatched (pinned) visits and a few visits that cannot
be done at all (nobody has the skill, the contract has expired or has no
on-site cover). Same arguments and seed, byte-identical output.

    python -m data.generate --technicians 40 --appointments 300 --days 1 --seed 7 \\
        --out data/demo/

writes ``request.json`` (a ``PlanRequest``, exchange format) and
``metadata.json`` (customer, address, asset, ticket summary and contract tier
per appointment; name and e-mail per technician) that the demo shows beside it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from data.london import (
    AREAS,
    BUSINESS_KINDS,
    FIRST_NAMES,
    LAST_NAMES,
    NEIGHBOURS,
    SKILL_DEMAND,
    SKILL_VOCABULARY,
    STREETS,
    TERRITORIES,
    TIMEZONE,
    UNSTAFFED_SKILL,
    UNSTAFFED_VOCABULARY,
    Area,
)
from optimiser.schema import (
    Appointment,
    Break,
    CoveragePeriod,
    Entitlement,
    Location,
    Options,
    PlanRequest,
    Shift,
    Technician,
    TimeWindow,
    Travel,
)

GENERATOR_VERSION = 1
DEFAULT_START_DATE = date(2026, 11, 23)  # a Monday
ZONE = ZoneInfo(TIMEZONE)

#: London traffic: ~30 km/h door to door, roads ~35 % longer than the crow flies.
TRAVEL = Travel(model="haversine", speed_kmh=30, road_factor=1.35)

PRIORITY_WEIGHTS = {1: 4, 2: 10, 3: 24, 4: 30, 5: 32}  # skewed to the lower ones
DURATIONS_MIN = {30: 18, 45: 25, 60: 25, 75: 12, 90: 12, 120: 8}
TIER_WEIGHTS = {"gold": 15, "silver": 35, "bronze": 40, "none": 10}
TWO_HOUR_SLOTS = ((8, 10), (10, 12), (12, 14), (14, 16))

#: Kinds of deliberately impossible visits and the reason an optimiser should give.
IMPOSSIBLE_KINDS = {
    "unstaffed_skill": "no_skilled_technician",
    "expired_contract": "not_entitled",
    "no_onsite_cover": "not_entitled",
}


# --------------------------------------------------------------------------- data set


@dataclass(frozen=True)
class TechnicianInfo:
    """What a dispatcher sees about a technician besides the request."""

    name: str
    email: str
    home_area: str
    home_address: str


@dataclass(frozen=True)
class AppointmentInfo:
    """What a dispatcher sees about a visit besides the request."""

    customer: str
    address: str
    area: str
    asset: str
    summary: str
    contract_tier: str  # gold | silver | bronze | none
    reported_at: str  # ISO 8601, when the ticket was raised
    #: None for ordinary visits; else a key of IMPOSSIBLE_KINDS or "pinned".
    designed_as: str | None = None


@dataclass
class FieldDataset:
    """A generated day (or week): the exchange-format request plus demo metadata."""

    request: PlanRequest
    technicians: dict[str, TechnicianInfo]
    appointments: dict[str, AppointmentInfo]
    parameters: dict[str, Any] = field(default_factory=dict)

    def request_json(self) -> dict[str, Any]:
        """The request as the spec writes it: offsets as ``+00:00``, no null fields.

        Options are written only where they differ from the defaults, so a new
        optional setting in the exchange format does not change the data sets.
        """
        data = self.request.model_dump(mode="python", by_alias=True, exclude_none=True)
        options = self.request.options.model_dump(mode="python", exclude_defaults=True)
        if options:
            data["options"] = options
        else:
            data.pop("options", None)
        return _iso_datetimes(data)

    def metadata_json(self) -> dict[str, Any]:
        return {
            "generator": self.parameters,
            "timezone": TIMEZONE,
            "technicians": {k: asdict(v) for k, v in self.technicians.items()},
            "appointments": {k: asdict(v) for k, v in self.appointments.items()},
        }

    def write(self, directory: Path | str) -> None:
        """Write ``request.json`` and ``metadata.json`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in (("request.json", self.request_json()),
                              ("metadata.json", self.metadata_json())):
            text = json.dumps(content, indent=1, ensure_ascii=False) + "\n"
            (directory / name).write_text(text, encoding="utf-8")

    @classmethod
    def load(cls, directory: Path | str) -> FieldDataset:
        """Read a data set written by :meth:`write`."""
        directory = Path(directory)
        request = PlanRequest.model_validate_json(
            (directory / "request.json").read_text(encoding="utf-8"))
        meta = json.loads((directory / "metadata.json").read_text(encoding="utf-8"))
        return cls(
            request=request,
            technicians={k: TechnicianInfo(**v) for k, v in meta["technicians"].items()},
            appointments={k: AppointmentInfo(**v) for k, v in meta["appointments"].items()},
            parameters=meta.get("generator", {}),
        )


def _iso_datetimes(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso_datetimes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_datetimes(v) for v in value]
    return value


# --------------------------------------------------------------------------- helpers


def working_days(start: date, count: int) -> list[date]:
    """``count`` Monday-Friday dates from ``start`` on (technicians work weekdays)."""
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time on ``day`` (aware; offset +00:00 or +01:00)."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def _weighted(rng: random.Random, weights: dict) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _jitter(rng: random.Random, area: Area, sigma_km: float) -> Location:
    """A point near the area's centre (normal scatter of ``sigma_km``)."""
    km_per_deg_lat = 111.2
    km_per_deg_lon = 111.2 * math.cos(math.radians(area.lat))
    lat = area.lat + rng.gauss(0, sigma_km) / km_per_deg_lat
    lon = area.lon + rng.gauss(0, sigma_km) / km_per_deg_lon
    return Location(lat=round(lat, 5), lon=round(lon, 5))


def _address(rng: random.Random, area: Area) -> str:
    inward = f"{rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
             f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    return f"{rng.randint(1, 240)} {rng.choice(STREETS)}, {area.name}, London " \
           f"{area.postcode} {inward}"


def _eligible(tech: Technician, skills: dict[str, int], min_level: int | None,
              territory: str | None) -> bool:
    """Skills with levels (raised by the contract's minimum) and territory; nothing else."""
    if territory and tech.territories and territory not in tech.territories:
        return False
    floor = min_level or 1
    return all(tech.skills.get(s, 0) >= max(level, floor) for s, level in skills.items())


# --------------------------------------------------------------------------- technicians


def _technicians(rng: random.Random, count: int, days: list[date]
                 ) -> tuple[list[Technician], dict[str, TechnicianInfo]]:
    skills_by_demand = sorted(SKILL_DEMAND, key=lambda s: -SKILL_DEMAND[s])
    technicians: list[Technician] = []
    infos: dict[str, TechnicianInfo] = {}
    used_emails: set[str] = set()
    for i in range(count):
        tech_id = f"T{i + 1:03d}"
        home_territory = TERRITORIES[i % len(TERRITORIES)] if count >= len(TERRITORIES) \
            else None
        candidates = [a for a in AREAS if home_territory in (None, a.territory)]
        area = rng.choice(candidates)
        if home_territory is None or rng.random() < 0.12:
            territories: list[str] = []  # a floater: goes anywhere
        else:
            territories = [home_territory]
            extra = rng.choices([0, 1, 2], weights=[4, 4, 2])[0]
            territories += rng.sample(NEIGHBOURS[home_territory], extra)
        # Every skill has a senior holder early on; later hires follow demand.
        primary = skills_by_demand[i % len(skills_by_demand)] if i < 2 * len(SKILL_DEMAND) \
            else _weighted(rng, SKILL_DEMAND)
        skills = {primary: _weighted(rng, {2: 2, 3: 4, 4: 3, 5: 1})}
        for other in rng.sample([s for s in SKILL_DEMAND if s != primary], rng.randint(1, 2)):
            skills[other] = _weighted(rng, {1: 3, 2: 4, 3: 3})
        shifts = [
            Shift(start=local(d, 8), end=local(d, 17),
                  breaks=[Break(earliest_start=local(d, 12), latest_end=local(d, 14),
                                duration_min=30)])
            for d in days
        ]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email_base = f"{first}.{last}".lower().replace("'", "")
        email, n = f"{email_base}@fieldplan.example", 2
        while email in used_emails:
            email, n = f"{email_base}{n}@fieldplan.example", n + 1
        used_emails.add(email)
        technicians.append(Technician(
            id=tech_id, name=f"{first} {last}", skills=skills,
            start_location=_jitter(rng, area, 2.0), shifts=shifts, territories=territories,
            max_overtime_min=_weighted(rng, {0: 5, 30: 3, 60: 2}),
            capacity=2 if rng.random() < 0.7 else None,
        ))
        infos[tech_id] = TechnicianInfo(name=f"{first} {last}", email=email,
                                        home_area=area.name, home_address=_address(rng, area))
    return technicians, infos


# --------------------------------------------------------------------------- contracts


def _entitlement(rng: random.Random, entitlement_id: str, tier: str, first_day: date,
                 impossible: str | None) -> Entitlement:
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    valid_until = local(first_day + timedelta(days=rng.randint(60, 400)), 23, 59)
    if impossible == "expired_contract":
        valid_until = local(first_day - timedelta(days=rng.randint(1, 60)), 23, 59)
    if tier == "gold":
        coverage = None if rng.random() < 0.5 else [CoveragePeriod(
            days=[*weekdays, "sat", "sun"], from_="07:00", to="22:00")]
        return Entitlement(id=entitlement_id, coverage=coverage, timezone=TIMEZONE,
                           valid_until=valid_until, min_skill_level=3)
    if tier == "silver":
        return Entitlement(id=entitlement_id, timezone=TIMEZONE, valid_until=valid_until,
                           coverage=[CoveragePeriod(days=weekdays, from_="08:00", to="18:00")],
                           min_skill_level=2)
    return Entitlement(id=entitlement_id, timezone=TIMEZONE, valid_until=valid_until,
                       coverage=[CoveragePeriod(days=weekdays, from_="09:00", to="17:00")],
                       onsite=impossible != "no_onsite_cover")


# --------------------------------------------------------------------------- appointments


def _windows(rng: random.Random, priority: int, day_index: int, days: list[date],
             reported: datetime) -> list[TimeWindow]:
    """Booking windows for the visit START: AM / PM / two-hour slot(s), or none."""
    day = days[day_index]
    if priority == 1:  # an emergency: any time today once it is reported
        earliest = max(local(day, 8), reported + timedelta(minutes=30))
        return [TimeWindow(start=earliest, end=local(day, 16, 30))]
    kinds = {"am": 25, "pm": 25, "slot": 30, "two_slots": 12}
    if priority >= 4:
        kinds["none"] = 8
    kind = _weighted(rng, kinds)
    if kind == "none":
        return []
    if kind == "am":
        return [TimeWindow(start=local(day, 8), end=local(day, 12))]
    if kind == "pm":
        return [TimeWindow(start=local(day, 12), end=local(day, 16))]
    first, second = rng.sample(TWO_HOUR_SLOTS, 2)
    if kind == "slot":
        return [TimeWindow(start=local(day, first[0]), end=local(day, first[1]))]
    other_day = day
    if day_index + 1 < len(days) and rng.random() < 0.5:
        other_day = days[day_index + 1]
    slots = sorted([(day, first), (other_day, second)])
    return [TimeWindow(start=local(d, s[0]), end=local(d, s[1])) for d, s in slots]


def _sla(rng: random.Random, priority: int, day: date, windows: list[TimeWindow]
         ) -> tuple[datetime, datetime]:
    """(reported_at, sla_due) by priority: P1 four hours ... P5 about a week."""
    if priority == 1:
        reported = local(day, 7) + timedelta(minutes=5 * rng.randint(0, 48))
        return reported, reported + timedelta(hours=4)
    if priority == 2:
        opens = windows[0].start if windows else local(day, 8)
        due = opens + timedelta(minutes=30 * rng.randint(2, 6))
        return due - timedelta(hours=8), due
    if priority == 3:
        due = local(day, 17) if rng.random() < 0.5 else \
            local(working_days(day + timedelta(days=1), 1)[0], 12)
        return due - timedelta(days=1), due
    later = rng.randint(1, 2) if priority == 4 else rng.randint(3, 5)
    due_day = working_days(day + timedelta(days=1), later)[-1]
    return local(due_day, 17) - timedelta(days=later + 2), local(due_day, 17)


def _required_skills(rng: random.Random, technicians: list[Technician], territory: str,
                     tier: str) -> tuple[dict[str, int], str]:
    """Skills a visit needs that at least one technician of its territory has.

    Demand follows SKILL_DEMAND; a draw nobody could serve is redrawn, and after
    a few tries the contract tier steps down (gold -> silver -> bronze) before
    falling back to a skill set a territory technician does hold.
    """
    min_level = {"gold": 3, "silver": 2}
    tiers = ["gold", "silver", "bronze"]
    start = tiers.index(tier) if tier in tiers else 2
    for current in tiers[start:]:
        for _ in range(12):
            skill = _weighted(rng, SKILL_DEMAND)
            skills = {skill: _weighted(rng, {1: 40, 2: 35, 3: 20, 4: 5})}
            if rng.random() < 0.1:
                other = rng.choice([s for s in SKILL_DEMAND if s != skill])
                skills[other] = rng.choice([1, 2])
            if any(_eligible(t, skills, min_level.get(current), territory)
                   for t in technicians):
                return skills, current if tier != "none" else "none"
    local_techs = [t for t in technicians if _eligible(t, {}, None, territory)] or technicians
    tech = rng.choice(local_techs)
    skill = rng.choice(sorted(tech.skills))
    return {skill: rng.randint(1, tech.skills[skill])}, "bronze" if tier != "none" else "none"


def _customer(rng: random.Random) -> str:
    if rng.random() < 0.65:
        return f"{rng.choice(LAST_NAMES)} {rng.choice(BUSINESS_KINDS)}"
    return f"{rng.choice(['Mr', 'Mrs', 'Ms', 'Dr'])} {rng.choice(FIRST_NAMES)[0]}. " \
           f"{rng.choice(LAST_NAMES)}"


def _nearest(technicians: list[Technician], location: Location) -> list[Technician]:
    def km2(t: Technician) -> float:
        dlat = t.start_location.lat - location.lat
        dlon = (t.start_location.lon - location.lon) * math.cos(math.radians(location.lat))
        return dlat * dlat + dlon * dlon
    return sorted(technicians, key=km2)


# --------------------------------------------------------------------------- the day


def generate_day(
    n_technicians: int,
    n_appointments: int,
    *,
    days: int = 1,
    seed: int = 0,
    start_date: date = DEFAULT_START_DATE,
) -> FieldDataset:
    """A realistic London service day (or ``days`` working days), reproducible by seed.

    About 1.5 % each of the visits are impossible by design (a skill nobody has,
    an expired contract, a contract without on-site cover; at least one of each
    from 10 visits on) and about 2 % are pinned to a qualified technician; their
    ``AppointmentInfo.designed_as`` says which.
    """
    if n_technicians < 1:
        raise ValueError("n_technicians must be at least 1")
    if n_appointments < 0:
        raise ValueError("n_appointments must not be negative")
    if days < 1:
        raise ValueError("days must be at least 1")
    rng = random.Random(seed)
    dates = working_days(start_date, days)
    technicians, tech_infos = _technicians(rng, n_technicians, dates)

    designed: dict[int, str] = {}
    if n_appointments >= 10:
        per_kind = max(1, round(0.015 * n_appointments))
        pinned = max(1, round(0.02 * n_appointments))
        chosen = rng.sample(range(n_appointments), per_kind * len(IMPOSSIBLE_KINDS) + pinned)
        kinds = [k for k in IMPOSSIBLE_KINDS for _ in range(per_kind)] + ["pinned"] * pinned
        designed = dict(zip(chosen, kinds, strict=True))

    area_weights = {a: a.weight for a in AREAS}
    entitlements: list[Entitlement] = []
    appointments: list[Appointment] = []
    infos: dict[str, AppointmentInfo] = {}
    for k in range(n_appointments):
        kind = designed.get(k)
        impossible = kind if kind in IMPOSSIBLE_KINDS else None
        appointment_id = f"A{k + 1:04d}"
        day_index = rng.randrange(len(dates))
        area = _weighted(rng, area_weights)
        location = _jitter(rng, area, 0.9)
        priority = _weighted(rng, PRIORITY_WEIGHTS)
        tier = _weighted(rng, TIER_WEIGHTS)
        if impossible in ("expired_contract", "no_onsite_cover"):
            tier = "bronze"
        if impossible == "unstaffed_skill":
            skills = {UNSTAFFED_SKILL: rng.randint(1, 3)}
            assets, summaries = UNSTAFFED_VOCABULARY
        else:
            skills, tier = _required_skills(rng, technicians, area.territory, tier)
            assets, summaries = SKILL_VOCABULARY[next(iter(skills))]
        entitlement = None
        if tier != "none":
            entitlement = _entitlement(rng, f"E-{tier.upper()}-{k + 1:04d}", tier, dates[0],
                                       impossible)
            entitlements.append(entitlement)

        # Reported time first for P1 (its window follows it), windows first otherwise.
        if priority == 1:
            reported, sla_due = _sla(rng, 1, dates[day_index], [])
            windows = _windows(rng, 1, day_index, dates, reported)
        else:
            windows = _windows(rng, priority, day_index, dates, local(dates[day_index], 0))
            reported, sla_due = _sla(rng, priority, dates[day_index], windows)

        asset = rng.choice(assets)
        demand = 1 if rng.random() < 0.06 else 0  # a bulky replacement unit on the van
        summary = f"Replace faulty {asset}" if demand else rng.choice(summaries)
        min_level = entitlement.min_skill_level if entitlement else None
        qualified = [t for t in technicians if _eligible(t, skills, min_level, area.territory)]
        preferred: list[str] = []
        excluded: list[str] = []
        pinned_to = None
        if qualified and impossible is None:
            nearby = _nearest(qualified, location)
            if kind == "pinned":
                pinned_to = nearby[0].id
            elif rng.random() < 0.1:
                preferred = [nearby[0].id]
            if len(qualified) > 2 and rng.random() < 0.03:
                excluded = [rng.choice([t.id for t in qualified
                                        if t.id != pinned_to and t.id not in preferred])]
        elif kind == "pinned":
            kind = None  # nobody qualified (tiny instances): an ordinary visit

        appointments.append(Appointment(
            id=appointment_id, ticket_id=f"TCK-{10000 + k + 1}",
            entitlement_id=entitlement.id if entitlement else None,
            location=location, duration_min=_weighted(rng, DURATIONS_MIN),
            required_skills=skills, windows=windows, sla_due=sla_due, priority=priority,
            territory=area.territory, demand=demand, pinned_technician=pinned_to,
            preferred_technicians=preferred, excluded_technicians=excluded,
        ))
        infos[appointment_id] = AppointmentInfo(
            customer=_customer(rng), address=_address(rng, area), area=area.name,
            asset=asset, summary=summary, contract_tier=tier,
            reported_at=reported.isoformat(), designed_as=kind,
        )

    request = PlanRequest(technicians=technicians, entitlements=entitlements,
                          appointments=appointments, travel=TRAVEL,
                          options=Options(time_limit_s=30))
    parameters = {"version": GENERATOR_VERSION, "n_technicians": n_technicians,
                  "n_appointments": n_appointments, "days": days, "seed": seed,
                  "start_date": start_date.isoformat()}
    return FieldDataset(request=request, technicians=tech_infos, appointments=infos,
                        parameters=parameters)


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m data.generate",
        description="Generate a seeded, realistic field-service day in Greater London.")
    parser.add_argument("--technicians", type=int, required=True)
    parser.add_argument("--appointments", type=int, required=True)
    parser.add_argument("--days", type=int, default=1, help="working days (Mon-Fri)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start-date", type=date.fromisoformat, default=DEFAULT_START_DATE,
                        help="first day, YYYY-MM-DD (default %(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        dataset = generate_day(args.technicians, args.appointments, days=args.days,
                               seed=args.seed, start_date=args.start_date)
    except (ValueError, ValidationError) as exc:
        parser.error(str(exc))  # exit status 2 with the message
    dataset.write(args.out)
    print(f"wrote {args.out / 'request.json'} and {args.out / 'metadata.json'}: "
          f"{args.technicians} technicians, {args.appointments} appointments, "
          f"{args.days} day(s), seed {args.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
