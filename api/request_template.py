"""The commented request template ``baygate init`` writes: every field of the contract (DESIGN section 3),
what it means, its default, and the values it takes, as a file that evaluates as it stands.

tests/cli/test_init_schema.py holds it to the model: every field of ``TransferRequest`` appears here, the
file validates, and its enum comments list exactly the model's values.
"""

from __future__ import annotations

import re

TEMPLATE = """\
# A transfer request for baygate (docs/request.md explains every field).
#   baygate evaluate transfer.yaml      decide without recording (a dry run)
#   baygate submit transfer.yaml        decide and record in the ledger
# Fields marked (required) must be given; the others may be left out and take the default shown.
# Dates are written YYYY-MM-DD. Unknown fields are refused, so a misspelt safeguard cannot be ignored.

reference: "SZH-2026-0042"          # (required) your id for this transfer; with the exporter id, the
                                    # idempotency key: submitting it again answers the recorded decision

exporter:                           # (required) the party that sends the data
  id: "91440300MA5XXXXXXX"          # (required) Mainland: unified social credit code (统一社会信用代码);
                                    # Hong Kong: business registration number; an individual: any stable id
  name: "Qianhai Health Data Co., Ltd."   # (required)
  jurisdiction: CN                  # (required) CN (Mainland) | HK | MO | any ISO 3166-1 alpha-2 code
  city: Shenzhen                    # required for CN parties: decides Greater Bay Area membership
  kind: company                     # default company; one of: PARTY_KINDS
  ciio: false                       # critical information infrastructure operator (关键信息基础设施运营者)
  sector: healthcare                # optional free text: banking, credit_reporting, healthcare, ...
                                    # (a healthcare exporter sending medical data: see population_health)
  zone: null                        # optional: qianhai | hetao_shenzhen_park | nansha | hengqin | ...
  processes_subjects: null          # optional: individuals whose personal information the exporter
                                    # processes in all (the 2022-2024 regime's 1,000,000 test)

recipient:                          # (required) the party that receives it (same fields as exporter)
  id: "71234561"
  name: "Harbour Analytics (HK) Ltd"
  jurisdiction: HK
  kind: company

onward_recipients: []               # parties the recipient passes the data on to (same fields)

purpose: business_services          # (required) why the data is sent, taken at its word; one of: PURPOSES
new_purpose: false                  # serves a purpose other than the one the data was collected for
                                    # (PDPO DPP3: the individuals' prescribed consent)
mode: provide                       # default provide (a copy is sent); remote_access = read from outside;
                                    # storage_abroad = hosted or processed outside; one of: MODES
planned_date: 2026-12-01            # (required) the transfer's date: the rules in force on it apply

data:                               # (required) one entry per data set, at least one
  - kind: personal                  # (required) one of: DATA_KINDS
    subjects: 120000                # required (>= 1) for personal data: distinct individuals in this set
    sensitive: []                   # PIPL art. 28 types; empty = no sensitive information; any of: SENSITIVE_TYPES
    classification: general         # default general; important = notified or published as important data;
                                    # one of: CLASSIFICATIONS
    tags: []                        # sector tags that bring sector rules in; any of: TAGS
    anonymized: false               # true only when truly anonymised (PIPL art. 73(4)): no individual can
                                    # be identified and it cannot be restored. De-identified or
                                    # pseudonymised data is still personal information: leave false
    collected_outside_mainland: false  # collected and generated outside the Mainland, with nothing
                                    # collected in the Mainland added (2024 Provisions art. 4)
    population: null                # optional: names a population (e.g. "members-2026") so the same
                                    # individuals sent again this year are not counted twice

safeguards:                         # what is already in place (all default to false / none)
  separate_consent: false           # PIPL art. 39 separate consent; Hong Kong exporter: DPP3 consent
  notice_given: false               # PIPL art. 39 notice; Hong Kong exporter: DPP1(3) notice
  pia_completed_on: null            # day the personal information protection impact assessment was done
  direct_marketing_consent: false   # HK exporter, purpose direct_marketing: PDPO s. 35J notice + s. 35K consent
  mechanisms: []                    # mechanisms in place, e.g.
  #  - type: gba_standard_contract  # one of: MECHANISM_TYPES
  #    reference: "GD-2026-123"     # filing, approval or certificate number
  #    effective_on: 2026-11-10     # the day it takes effect (contract) or was issued (assessment)
  #    filed_on: 2026-11-15         # the day it was filed with the authority, if filed
  #    expires_on: null             # last day of validity; null = no fixed term
  approvals: []                     # authority approvals held, e.g.
  #  - kind: foreign_judicial_request  # one of: APPROVAL_KINDS
  #    authority: "Ministry of Justice"
  #    reference: null
  #    granted_on: 2026-11-20

declared_prior:                     # earlier volume this ledger has not recorded (your own figures)
  personal_subjects: 0              # individuals sent since 1 January of the planned date's year
  sensitive_subjects: 0             # of them, with sensitive personal information
  previous_year_personal_subjects: 0   # the calendar year before (the 2022-2024 regime counts it)
  previous_year_sensitive_subjects: 0
"""


def template() -> str:
    """The template with each list of values written out where ``one of: NAME`` stands (from the model),
    wrapped under the comment it ends."""
    from engine import models

    values = {
        "PARTY_KINDS": models.PARTY_KINDS, "PURPOSES": models.PURPOSES, "MODES": models.MODES,
        "DATA_KINDS": ("personal", "non_personal"), "SENSITIVE_TYPES": models.SENSITIVE_TYPES,
        "CLASSIFICATIONS": models.CLASSIFICATIONS, "TAGS": models.TAGS,
        "MECHANISM_TYPES": models.MECHANISM_TYPES, "APPROVAL_KINDS": models.APPROVAL_KINDS,
    }
    lines: list[str] = []
    for line in TEMPLATE.splitlines():
        found = re.search(r"(one|any) of: ([A-Z_]+)$", line)
        if found is None:
            lines.append(line)
            continue
        indent = " " * line.index("#")
        head = line[: found.start()] + f"{found.group(1)} of:"
        words = [*values[found.group(2)]]
        current = head
        for index, word in enumerate(words):
            piece = word + (" |" if index < len(words) - 1 else "")
            if len(current) + 1 + len(piece) > LINE_WIDTH:
                lines.append(current)
                current = f"{indent}#"
            current += " " + piece
        lines.append(current)
    return "\n".join(lines) + "\n"


LINE_WIDTH = 110
