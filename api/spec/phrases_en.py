"""The English phrase book: the sentences an English feature may use, each with an example.

Any keyword may start a sentence (Given, When, Then, And, But, *): a sentence means the same
whichever keyword precedes it. ``{...}`` in a template is a value; the README lists the words
each value accepts.
"""

from __future__ import annotations

from . import steps as s
from .steps import Phrase
from .vocab import DATE_RE, NUMBER_RE


def _n(name: str) -> str:
    return f"(?P<{name}>{NUMBER_RE})"


def _d(name: str) -> str:
    return f"(?P<{name}>{DATE_RE})"


ROLE = r"the (?P<role>exporter|recipient)"
KIND = (r"(?P<kind>company|research institution|public institution|public hospital|public university|individual|"
        r"university|state organ|government department)")

PHRASES: list[Phrase] = [
    # parties
    Phrase(s.locate, rf"{ROLE} is an? {KIND} in (?P<where>.+)",
           "the {exporter|recipient} is a {kind} in {place}", "the exporter is a company in Shenzhen"),
    Phrase(s.onward, rf"the recipient passes the data on to an onward recipient, an? {KIND} in "
           r"(?P<where>.+)", "the recipient passes the data on to an onward recipient, a {kind} in {place}",
           "the recipient passes the data on to an onward recipient, a company in Singapore"),
    Phrase(s.ciio, rf"{ROLE} is a critical information infrastructure operator",
           "the {exporter|recipient} is a critical information infrastructure operator",
           "the exporter is a critical information infrastructure operator"),
    Phrase(s.sector, rf"{ROLE} works in the (?P<sector>.+) sector",
           "the {exporter|recipient} works in the {sector} sector", "the exporter works in the banking sector"),
    Phrase(s.zone, rf"{ROLE} is in the (?P<zone>.+) zone",
           "the {exporter|recipient} is in the {zone} zone", "the exporter is in the hetao_shenzhen_park zone"),
    Phrase(s.party_id, rf"{ROLE}'s id is \"(?P<pid>[^\"]+)\"", 'the {exporter|recipient}\'s id is "{id}"',
           'the exporter\'s id is "91440300MA5XXXX042"'),
    Phrase(s.processes, rf"the exporter processes personal information of {_n('n')} individuals in all",
           "the exporter processes personal information of {number} individuals in all",
           "the exporter processes personal information of 1,200,000 individuals in all"),
    # the transfer
    Phrase(s.purpose, r"the purpose is (?P<purpose>.+)", "the purpose is {purpose}",
           "the purpose is hr management"),
    Phrase(s.new_purpose, r"the data will be used for a new purpose", "the data will be used for a new purpose",
           "the data will be used for a new purpose"),
    Phrase(s.mode, r"the mode is (?P<mode>.+)", "the mode is {mode}", "the mode is remote access"),
    Phrase(s.planned, rf"the transfer(?: \"(?P<ref>[^\"]+)\")? is planned for {_d('date')}",
           'the transfer ["{ref}"] is planned for {date}', "the transfer is planned for 2026-12-01"),
    Phrase(s.reference, r"the transfer's reference is \"(?P<ref>[^\"]+)\"", 'the transfer\'s reference is "{ref}"',
           'the transfer\'s reference is "SZH-2026-0042"'),
    # data
    Phrase(s.personal, rf"the transfer carries personal information of {_n('n')} individuals",
           "the transfer carries personal information of {number} individuals",
           "the transfer carries personal information of 120,000 individuals"),
    Phrase(s.sensitive, rf"the transfer carries sensitive personal information \((?P<types>[^)]+)\) of "
           rf"{_n('n')} individuals",
           "the transfer carries sensitive personal information ({types}) of {number} individuals",
           "the transfer carries sensitive personal information (medical health) of 9,999 individuals"),
    Phrase(s.non_personal, r"the transfer carries non-personal data", "the transfer carries non-personal data",
           "the transfer carries non-personal data"),
    Phrase(s.classified, r"the data is classified (?:as )?(?P<cls>.+)", "the data is classified as {classification}",
           "the data is classified as important data"),
    Phrase(s.tagged, r"the data is tagged (?P<tags>.+)", "the data is tagged {tags}",
           "the data is tagged human genetic resources"),
    Phrase(s.collected_abroad, r"the data was collected outside the Mainland",
           "the data was collected outside the Mainland", "the data was collected outside the Mainland"),
    Phrase(s.anonymised, r"the data is anonymi[sz]ed", "the data is anonymised", "the data is anonymised"),
    Phrase(s.population, r"the data belongs to the population \"(?P<name>[^\"]+)\"",
           'the data belongs to the population "{name}"', 'the data belongs to the population "members-2026"'),
    Phrase(s.data_table, r"the transfer carries these data sets:?", "the transfer carries these data sets:",
           "the transfer carries these data sets:",
           table="| kind | individuals | sensitive | classification | tags |\n"
                 "| personal | 60,000 | | general | |\n"
                 "| personal | 3,000 | medical health | general | population health |"),
    # safeguards
    Phrase(s.notice, r"notice has been given", "notice has been given", "notice has been given"),
    Phrase(s.consent, r"separate consent has been obtained", "separate consent has been obtained",
           "separate consent has been obtained"),
    Phrase(s.pia, rf"an impact assessment was completed on {_d('date')}",
           "an impact assessment was completed on {date}", "an impact assessment was completed on 2026-11-01"),
    Phrase(s.usual, r"notice, separate consent and an impact assessment are in place",
           "notice, separate consent and an impact assessment are in place",
           "notice, separate consent and an impact assessment are in place"),
    Phrase(s.mechanism, rf"an? (?P<mech>[A-Za-z ]+?) (?:took effect|was passed|was issued) on {_d('eff')}"
           rf"(?:,? (?:and )?was filed on {_d('filed')}|,? and has not been filed)?"
           rf"(?:,? (?:and )?expires on {_d('exp')})?",
           "a {mechanism} took effect on {date} [and was filed on {date} | and has not been filed] "
           "[and expires on {date}]",
           "a GBA standard contract took effect on 2026-11-10 and was filed on 2026-11-15"),
    Phrase(s.approval, rf"an approval for (?P<kind>.+) was granted on {_d('date')}",
           "an approval for {approval} was granted on {date}",
           "an approval for state secrets was granted on 2026-11-20"),
    # earlier volume
    Phrase(s.prior_this_year, rf"earlier this year the exporter sent (?P<sens>sensitive )?personal information "
           rf"of {_n('n')} individuals",
           "earlier this year the exporter sent [sensitive] personal information of {number} individuals",
           "earlier this year the exporter sent personal information of 80,000 individuals"),
    Phrase(s.prior_last_year, rf"last year the exporter sent (?P<sens>sensitive )?personal information of "
           rf"{_n('n')} individuals",
           "last year the exporter sent [sensitive] personal information of {number} individuals",
           "last year the exporter sent personal information of 70,000 individuals"),
    Phrase(s.option, r"the option (?P<opt>[a-z0-9_]+) is (?P<value>\S+)", "the option {option} is {on|off}",
           "the option gba_contract_at_assessment_level is on"),
    # actions
    Phrase(s.evaluate, r"the transfer is evaluated", "the transfer is evaluated", "the transfer is evaluated"),
    Phrase(s.submit, r"the transfer is submitted(?: to the ledger)?", "the transfer is submitted [to the ledger]",
           "the transfer is submitted to the ledger"),
    Phrase(s.withdraw, r"the transfer(?: \"(?P<ref>[^\"]+)\")? is withdrawn", 'the transfer ["{ref}"] is withdrawn',
           'the transfer "LEDGER-01" is withdrawn'),
    Phrase(s.new_transfer, rf"a new transfer(?: \"(?P<ref>[^\"]+)\")?(?: is planned for {_d('date')})?",
           'a new transfer ["{ref}"] [is planned for {date}]',
           'a new transfer "LEDGER-02" is planned for 2026-06-01'),
    # checks
    Phrase(s.outcome, r"the (?:outcome is|transfer is) (?P<outcome>permitted|conditional|prohibited)",
           "the outcome is {permitted|conditional|prohibited}", "the outcome is conditional"),
    Phrase(s.mechanism_level, r"the (?:required )?mechanism is (?P<level>.+)", "the mechanism is {level}",
           "the mechanism is security assessment"),
    Phrase(s.options_are, r"the mechanism options are (?P<opts>.+)", "the mechanism options are {mechanisms}",
           "the mechanism options are GBA standard contract, standard contract and certification"),
    Phrase(s.exemptions_are, r"the exemptions? (?:are|is) (?P<exemptions>.+)", "the exemptions are {exemptions}",
           "the exemptions are hr management"),
    Phrase(s.no_exemption, r"no exemption applies", "no exemption applies", "no exemption applies"),
    Phrase(s.cites, r"a reason cites \"(?P<text>[^\"]+)\"", 'a reason cites "{text}"',
           'a reason cites "art. 5(2)"'),
    Phrase(s.says, r"a reason says \"(?P<text>[^\"]+)\"", 'a reason says "{text}"',
           'a reason says "regardless of volume"'),
    Phrase(s.rule_applies, r"the rule (?P<rule>[\w.\-]+) (?:(?P<neg>does not) apply|applies)",
           "the rule {rule id} applies | the rule {rule id} does not apply", "the rule cn.pi.ciio applies"),
    Phrase(s.missing, r"missing includes (?:the |an? )?(?P<what>mechanism|obligation|approval) (?P<value>.+)",
           "missing includes the {mechanism|obligation|approval} {value}",
           "missing includes the mechanism security assessment"),
    Phrase(s.missing_review, r"missing includes a legal review", "missing includes a legal review",
           "missing includes a legal review"),
    Phrase(s.nothing_missing, r"nothing is missing", "nothing is missing", "nothing is missing"),
    Phrase(s.met_by, r"the requirement is met by the (?P<mech>[A-Za-z ]+)", "the requirement is met by the {mechanism}",
           "the requirement is met by the GBA standard contract"),
    Phrase(s.met_by_nothing, r"no mechanism in place meets the requirement",
           "no mechanism in place meets the requirement", "no mechanism in place meets the requirement"),
    Phrase(s.due, rf"(?:an|the) obligation (?P<oid>[\w.\-]+) is due on {_d('date')}",
           "an obligation {obligation id} is due on {date}", "an obligation cn.sc-filing is due on 2026-12-10"),
    Phrase(s.satisfied, r"the obligation (?P<oid>[\w.\-]+) is (?P<neg>not )?satisfied",
           "the obligation {obligation id} is [not] satisfied", "the obligation cn.pia is not satisfied"),
    Phrase(s.counted, r"the transfer (?:(?P<neg>does not count)|counts) toward the year's tally",
           "the transfer counts | does not count toward the year's tally",
           "the transfer does not count toward the year's tally"),
    Phrase(s.ledger_counts, rf"the ledger counts {_n('personal')} individuals(?: and {_n('sensitive')} "
           rf"sensitive)? for the exporter in (?P<year>\d{{4}})",
           "the ledger counts {number} individuals [and {number} sensitive] for the exporter in {year}",
           "the ledger counts 110,000 individuals and 0 sensitive for the exporter in 2026"),
    Phrase(s.replayed, r"the submission (?:(?P<neg>is not)|is) a replay", "the submission is [not] a replay",
           "the submission is a replay"),
]
