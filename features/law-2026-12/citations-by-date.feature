Feature: Each day's law cites the instruments in force that day
  Where an instrument came into force, was renumbered or replaced, the rule that cites it is split at
  that date: a decision for 2024 never cites the 2025 Regulations, one for 2026 cites the Cybersecurity
  Law as amended. Every transfer is decided by some rule: a case the packs have nothing to say about is
  never a bare "permitted" (docs/law/README.md).

  Background:
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong
    And notice, separate consent and an impact assessment are in place

  Scenario Outline: Important data: the Regulations' art. 37 from 2025-01-01
    Given the transfer is planned for <date>
    And the transfer carries non-personal data
    And the data is classified as important
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the rule <rule> applies
    And a reason cites "<cites>"

    Examples:
      | date       | rule                   | cites  |
      | 2024-12-31 | cn.important-data.2024 | art. 2 |
      | 2025-01-01 | cn.important-data      | art. 37 |

  Scenario Outline: A CIIO: Cybersecurity Law art. 37, art. 39 from its amendment in force 2026-01-01
    Given the exporter is a critical information infrastructure operator
    And the transfer is planned for <date>
    And the transfer carries personal information of 100 individuals
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the rule <rule> applies
    And a reason cites "<cites>"

    Examples:
      | date       | rule            | cites                                   |
      | 2024-06-03 | cn.pi.ciio.2024 | Cybersecurity Law (2016), art. 37       |
      | 2025-12-31 | cn.pi.ciio.2025 | Cybersecurity Law (2016), art. 37       |
      | 2026-01-01 | cn.pi.ciio      | Cybersecurity Law (2025 amendment), art. 39 |

  Scenario Outline: Assessment thresholds in 2024, before the Regulations
    Given the transfer is planned for 2024-06-03
    And the transfer carries <data>
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the rule <rule> applies

    Examples:
      | data                                                           | rule                             |
      | personal information of 1,000,000 individuals                  | cn.pi.1m-or-more.2024            |
      | sensitive personal information (biometric) of 10,000 individuals | cn.pi.sensitive-10k-or-more.2024 |

  Scenario Outline: The 2022 volume test: the Standard Contract Measures are cited only once in force (2023-06-01)
    Given the transfer is planned for <date>
    And the transfer carries personal information of 150,000 individuals
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the rule <rule> applies
    And a reason cites "Measures for the Security Assessment of Outbound Data Transfers (2022), art. 4(3)"

    Examples:
      | date       | rule                                 |
      | 2023-05-31 | cn22.volume-since-previous-year.2022 |
      | 2023-06-01 | cn22.volume-since-previous-year      |

  Scenario: An assessment in place in 2024: the extension window of art. 9 alone
    Given the transfer is planned for 2024-09-02
    And a security assessment took effect on 2024-06-03
    And the transfer carries personal information of 1,200,000 individuals
    When the transfer is evaluated
    Then the outcome is permitted
    And the rule cn.sa-validity.2024 applies

  Scenario Outline: State secrets: the State Secrets Law as revised in force from 2024-05-01
    Given the transfer is planned for <date>
    And the transfer carries non-personal data
    And the data is classified as a state secret
    When the transfer is evaluated
    Then the outcome is prohibited
    And the rule <rule> applies

    Examples:
      | date       | rule                 |
      | 2024-04-30 | cn.state-secret.2021 |
      | 2024-05-01 | cn.state-secret      |

  Scenario Outline: A state organ before and under the 2022 Measures
    Given the exporter is a state organ in Shenzhen
    And the transfer is planned for <date>
    And the transfer carries personal information of 50 individuals
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the rule <rule> applies

    Examples:
      | date       | rule                |
      | 2022-08-31 | cn.state-organ.2021 |
      | 2023-01-10 | cn.state-organ.2022 |

  Scenario Outline: Remote access: the guide or Q&A of the day
    Given the mode is remote access
    And the transfer is planned for <date>
    And the transfer carries personal information of 5,000 individuals
    When the transfer is evaluated
    Then the rule <rule> applies

    Examples:
      | date       | rule                  |
      | 2023-06-01 | cn.remote-access.2022 |
      | 2024-06-03 | cn.remote-access.2024 |
      | 2025-10-31 | cn.remote-access      |

  Scenario Outline: Household processing: PIPL art. 72, and the Regulations' art. 63 from 2025
    Given the exporter is an individual in Shenzhen
    And the transfer is planned for <date>
    And the transfer carries personal information of 3 individuals
    When the transfer is evaluated
    Then the rule <rule> applies

    Examples:
      | date       | rule              |
      | 2024-06-03 | cn.household.2021 |
      | 2025-01-02 | cn.household      |

  Scenario Outline: Research data: the Hetao Shenzhen Park Regulation from 2026-03-01
    Given the purpose is research
    And the transfer is planned for <date>
    And the transfer carries non-personal data
    And the data is tagged research
    When the transfer is evaluated
    Then the outcome is permitted
    And the rule <rule> applies

    Examples:
      | date       | rule                           |
      | 2026-02-28 | sec.scientific-data.check.2018 |
      | 2026-03-01 | sec.scientific-data.check      |

  Scenario: Automotive important data before the 2026 guidelines
    Given the transfer is planned for 2025-06-02
    And the transfer carries non-personal data
    And the data is classified as important
    And the data is tagged automotive
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the rule sec.automotive.important-data.2021 applies

  Scenario Outline: The GBA contract's Hong Kong filing: the OGCIO, then the Digital Policy Office from 2024-07-25
    Given the exporter works in the banking sector
    And the transfer is planned for <date>
    And the transfer carries personal information of 150,000 individuals
    And a GBA standard contract took effect on 2024-07-02 and was filed on 2024-07-05
    When the transfer is evaluated
    Then the outcome is permitted
    And the rule <rule> applies

    Examples:
      | date       | rule                     |
      | 2024-07-24 | gba.contract-duties.2023 |
      | 2024-07-25 | gba.contract-duties      |

  Scenario Outline: The PCPD's model clauses, and the GBA contract from 2023-12-13
    Given the exporter is a company in Hong Kong
    And the recipient is a company in Shenzhen
    And the transfer is planned for <date>
    And the transfer carries personal information of 1,000 individuals
    When the transfer is evaluated
    Then the outcome is permitted
    And the rule <rule> applies

    Examples:
      | date       | rule                              |
      | 2023-12-12 | hk.model-clauses-recommended.2022 |
      | 2023-12-13 | hk.model-clauses-recommended      |

  Scenario Outline: No transfer is permitted without a rule that decided it
    Given the exporter is a company in <exporter>
    And the recipient is a company in <recipient>
    And the transfer is planned for <date>
    And the transfer carries <data>
    When the transfer is evaluated
    Then the outcome is <outcome>
    And the rule <rule> applies

    Examples:
      | exporter  | recipient | date       | data                                        | outcome     | rule                    |
      | Shenzhen  | Hong Kong | 2023-01-10 | non-personal data                           | permitted   | cn22.non-personal       |
      | Shenzhen  | Dongguan  | 2026-12-01 | non-personal data                           | permitted   | cn.domestic-no-personal |
      | Hong Kong | Hong Kong | 2026-12-01 | personal information of 1,000 individuals   | permitted   | hk.within-hong-kong     |
      | Hong Kong | Shenzhen  | 2026-12-01 | non-personal data                           | permitted   | hk.no-personal-data     |
      | Singapore | Hong Kong | 2026-12-01 | personal information of 1,000 individuals   | conditional | scope.foreign-exporter  |

  Scenario Outline: Human genetic resources: the authority and the instruments of the day
    Given the purpose is research
    And the transfer is planned for <date>
    And the transfer carries sensitive personal information (medical health) of 600 individuals
    And the data is tagged human genetic resources
    When the transfer is evaluated
    Then the rule <rule> applies
    And the rule <review> applies

    Examples:
      | date       | rule                      | review                       |
      | 2023-09-01 | sec.hgr.prior-report.2023 | sec.hgr.security-review.2023 |
      | 2024-06-03 | sec.hgr.prior-report      | sec.hgr.security-review      |

  Scenario Outline: Sector rules before the instruments added to them later
    Given the transfer is planned for <date>
    And the transfer carries personal information of 2,000 individuals
    And the data is tagged <tag>
    When the transfer is evaluated
    Then the rule <rule> applies

    Examples:
      | date       | tag                  | rule                                 |
      | 2020-06-01 | human genetic resources | sec.hgr.prior-report.2019         |
      | 2020-06-01 | credit reporting     | sec.credit-reporting.2013            |
      | 2019-06-03 | personal financial   | sec.personal-financial.2011          |
      | 2016-06-01 | population health    | sec.population-health.provision.2014 |

  Scenario Outline: A judicial request before PIPL took effect (2021-11-01): the Data Security Law alone
    Given the purpose is judicial request
    And the transfer is planned for 2021-10-11
    And the transfer carries personal information of 20 individuals
    And <approval>
    When the transfer is evaluated
    Then the rule <rule> applies

    Examples:
      | approval                                                          | rule                                  |
      | the data is classified as general                                 | cn.foreign-judicial-request.2021      |
      | an approval for foreign judicial request was granted on 2021-10-01 | cn.judicial-request-approved.2021 |
