"""What a file holds, for ``edi-rehab show``: envelopes, then claims or payments.

Built from stream events one transaction at a time; renders to plain dicts (JSON) or to
text lines a biller can read at a glance. No I/O here: the CLI prints what this returns.
Names of people are left out on purpose: the listing is meant to be pasted into tickets.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from .claims import Claim, read_claims
from .remits import Remittance, read_remittance
from .x12.errors import ReadWarning
from .x12.stream import (
    EndOfInput,
    Event,
    GroupHeader,
    GroupTrailer,
    InterchangeHeader,
    InterchangeTrailer,
    Transaction,
)

__all__ = ["describe_event", "render_text"]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _date(day) -> str | None:
    return day.isoformat() if day else None


def claim_to_json(claim: Claim) -> dict:
    return {
        "claim_id": claim.claim_id,
        "segment": claim.position(),
        "charge": claim.charge_raw,
        "place_of_service": claim.place_of_service,
        "frequency_code": claim.frequency_code,
        "payer": {"id": claim.payer_id, "name": claim.payer.last_name if claim.payer else ""},
        "filing_indicator": claim.filing_indicator,
        "rendering": {"npi": claim.rendering_npi, "taxonomy": claim.rendering_taxonomy},
        "payer_claim_number": claim.payer_claim_number or None,
        "has_cob": claim.has_cob,
        "lines": [
            {
                "line": line.lx,
                "segment": claim.position(line.sv1_index if line.sv1_index is not None else line.index),
                "qualifier": line.qualifier,
                "procedure": line.procedure,
                "modifiers": list(line.modifiers),
                "charge": line.charge_raw,
                "unit_basis": line.unit_basis,
                "units": line.units_raw,
                "service_date": line.service_date.raw if line.service_date else None,
                "control_number": line.control_number or None,
                "rendering": dict(zip(("npi", "taxonomy"), claim.line_rendering(line))),
                "notes": list(line.notes),
            }
            for line in claim.lines
        ],
    }


def remittance_to_json(remit: Remittance) -> dict:
    return {
        "paid": _money(remit.total_paid),
        "payment_date": _date(remit.payment_date),
        "trace_number": remit.trace_number,
        "payer": {"id": remit.payer_id, "name": remit.payer_name},
        "claims": [
            {
                "claim_id": claim.claim_id,
                "segment": remit.position(claim.index),
                "status": claim.status,
                "charge": _money(claim.charge),
                "paid": _money(claim.paid),
                "payer_claim_number": claim.payer_claim_number,
                "adjustments": [[a.group, a.reason, _money(a.amount)] for a in claim.adjustments],
                "remarks": list(claim.remarks),
                "services": [
                    {
                        "segment": remit.position(service.index),
                        "procedure": service.procedure,
                        "modifiers": list(service.modifiers),
                        "original_procedure": service.original_procedure or None,
                        "service_date": _date(service.dates[0]),
                        "charge": _money(service.charge),
                        "paid": _money(service.paid),
                        "units_paid": str(service.units_paid) if service.units_paid is not None else None,
                        "control_number": service.control_number or None,
                        "adjustments": [[a.group, a.reason, _money(a.amount)] for a in service.adjustments],
                        "remarks": list(service.remarks),
                    }
                    for service in claim.services
                ],
            }
            for claim in remit.claims
        ],
    }


def _warning_json(warning: ReadWarning) -> dict:
    return {"kind": warning.kind, "segment": warning.segment, "message": warning.message}


def describe_event(event: Event) -> dict | None:
    """A JSON-ready description of one event, or None for events not worth listing."""
    warnings = [_warning_json(w) for w in event.warnings]
    if isinstance(event, InterchangeHeader):
        seg = event.segment
        d = event.delimiters
        return {
            "type": "interchange",
            "segment": seg.position,
            "control_number": seg.element(13),
            "sender": seg.element(6).strip(),
            "receiver": seg.element(8).strip(),
            "date": seg.element(9),
            "usage": seg.element(15),
            "delimiters": {
                "element": d.element.decode("latin-1"),
                "component": d.component.decode("latin-1"),
                "repetition": d.repetition.decode("latin-1") if d.repetition else None,
                "segment": d.segment.decode("latin-1"),
            },
            "warnings": warnings,
        }
    if isinstance(event, GroupHeader):
        seg = event.segment
        return {
            "type": "group",
            "segment": seg.position,
            "functional_id": seg.element(1),
            "control_number": seg.element(6),
            "version": seg.element(8),
            "warnings": warnings,
        }
    if isinstance(event, Transaction):
        described = {
            "type": "transaction",
            "segment": event.first_position,
            "set_id": event.set_id,
            "control_number": event.control_number,
            "version": event.version,
            "segments": event.count,
        }
        if event.set_id == "837":
            claims = read_claims(event)
            for claim in claims:
                warnings += [_warning_json(w) for w in claim.warnings]
            described["claims"] = [claim_to_json(c) for c in claims]
        elif event.set_id == "835":
            remit = read_remittance(event)
            described["remittance"] = remittance_to_json(remit)
            warnings += [_warning_json(w) for w in remit.warnings]
        described["warnings"] = warnings
        return described
    if isinstance(event, (GroupTrailer, InterchangeTrailer, EndOfInput)):
        return {"type": "trailer", "warnings": warnings} if warnings else None
    return None  # pragma: no cover


def render_text(described: dict) -> Iterator[str]:
    """Text lines for one described event."""
    kind = described["type"]
    if kind == "interchange":
        d = described["delimiters"]
        seps = " ".join(repr(d[k])[1:-1] for k in ("element", "component", "repetition", "segment") if d[k])
        yield (
            f"interchange {described['control_number']}  {described['sender']} -> {described['receiver']}"
            f"  {described['date']}  usage {described['usage']}  delimiters {seps}"
        )
    elif kind == "group":
        yield f"  group {described['functional_id']} {described['control_number']}  {described['version']}"
    elif kind == "transaction":
        yield (
            f"    transaction {described['set_id']} {described['control_number']}"
            f"  segments {described['segment']}-{described['segment'] + described['segments'] - 1}"
        )
        for claim in described.get("claims", []):
            payer = claim["payer"]
            rendering = claim["rendering"]
            extras = []
            if claim["payer_claim_number"]:
                extras.append(f"F8 {claim['payer_claim_number']}")
            if claim["has_cob"]:
                extras.append("COB")
            yield (
                f"      claim {claim['claim_id']}  charge {claim['charge']}  payer {payer['name'] or '?'} ({payer['id']}"
                f"{', ' + claim['filing_indicator'] if claim['filing_indicator'] else ''})"
                f"  pos {claim['place_of_service']}  freq {claim['frequency_code']}"
                f"  rendering {rendering['npi'] or '?'} {rendering['taxonomy']}"
                + (f"  {'  '.join(extras)}" if extras else "")
            )
            for line in claim["lines"]:
                code = ":".join([line["qualifier"], line["procedure"], *line["modifiers"]])
                yield (
                    f"        {str(line['line']):>3}  {line['service_date'] or 'no date':<17} {code:<22}"
                    f" {line['unit_basis']} {line['units']:<4} {line['charge']:>9}"
                    + (f"  6R {line['control_number']}" if line["control_number"] else "")
                )
        remit = described.get("remittance")
        if remit:
            yield f"      payment {remit['paid']}  trace {remit['trace_number']}  payer {remit['payer']['name']} ({remit['payer']['id']})"
            for claim in remit["claims"]:
                yield (
                    f"      claim {claim['claim_id']}  status {claim['status']}  charge {claim['charge']}"
                    f"  paid {claim['paid']}  payer claim {claim['payer_claim_number']}"
                    + (f"  remarks {' '.join(claim['remarks'])}" if claim["remarks"] else "")
                )
                for s in claim["services"]:
                    code = ":".join([s["procedure"], *s["modifiers"]])
                    adj = " ".join(f"{g}-{r} {a}" for g, r, a in s["adjustments"])
                    yield (
                        f"        {code:<20} {s['service_date'] or 'no date':<11} charge {s['charge'] or '?':>8}"
                        f"  paid {s['paid'] or '?':>8}  {adj}"
                        + (f"  remarks {' '.join(s['remarks'])}" if s["remarks"] else "")
                    )
    for warning in described.get("warnings", []):
        yield f"  warning: segment {warning['segment']}: {warning['message']}"
