Feature: The law as of December 2026 — what the review of 2026-12 changed
  Each scenario pins an answer that changed after the legal review of 2026-12 (docs/law/), with the
  boundary date or volume either side. The same cases are written in 简体中文 and 繁體中文 beside this file.

  Background:
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong

  Scenario Outline: A statutory duty needs no mechanism from 2025-01-01 (Regulations art. 35(6))
    Given the purpose is statutory duty
    And the transfer is planned for <date>
    And the transfer carries personal information of 200,000 individuals
    And notice, separate consent and an impact assessment are in place
    When the transfer is evaluated
    Then the outcome is <outcome>
    And the mechanism is <mechanism>
    And the exemptions are <exemptions>

    Examples:
      | date       | outcome     | mechanism         | exemptions     |
      | 2024-12-31 | conditional | standard contract | none           |
      | 2025-01-01 | permitted   | none              | statutory duty |

  Scenario: A statutory duty never covers important data
    Given the purpose is statutory duty
    And the transfer carries personal information of 300 individuals
    And the data is classified as important
    And notice, separate consent and an impact assessment are in place
    When the transfer is evaluated
    Then the mechanism is security assessment
    And no exemption applies

  Scenario Outline: The 2022 regime counted every individual, sensitive or not
    Given the transfer is planned for 2023-10-10
    And the transfer carries personal information of <ordinary> individuals
    And the transfer carries sensitive personal information (medical health) of <sensitive> individuals
    And notice, separate consent and an impact assessment are in place
    When the transfer is evaluated
    Then the mechanism is <mechanism>
    And the rule <rule> applies

    Examples:
      | ordinary | sensitive | mechanism           | rule                            |
      | 95,000   | 9,000     | security assessment | cn22.volume-since-previous-year |
      | 99,999   | 1         | security assessment | cn22.volume-since-previous-year |
      | 90,000   | 9,999     | standard contract   | cn22.contract-tier              |

  Scenario: A Macao exporter is outside the packs: conditional on a legal review, never permitted
    Given the exporter is a company in Macao
    And the recipient is a company in Zhuhai
    And the transfer carries sensitive personal information (medical health) of 3,000 individuals
    And notice, separate consent and an impact assessment are in place
    When the transfer is evaluated
    Then the outcome is conditional
    And missing includes a legal review
    And the rule scope.macao-exporter applies
    And a reason cites "Law 8/2005"

  Scenario: Shenzhen to Guangzhou, the recipient passing the data on to Hong Kong
    Given the recipient is a company in Guangzhou
    And the recipient passes the data on to an onward recipient, a company in Hong Kong
    And the transfer carries personal information of 150,000 individuals
    And notice, separate consent and an impact assessment are in place
    When the transfer is evaluated
    Then the outcome is permitted
    And the mechanism is none
    And the rule cn.domestic-provision applies
    And the rule cn.domestic-onward-abroad applies
    And a reason cites "art. 23"

  Scenario: A public hospital is not a state organ: its emergency transfer is exempt
    Given the exporter is a public hospital in Shenzhen
    And the purpose is emergency protection
    And the transfer carries sensitive personal information (medical health) of 1 individuals
    And notice, separate consent and an impact assessment are in place
    When the transfer is evaluated
    Then the outcome is permitted
    And the exemptions are emergency
    And the rule cn.state-organ does not apply

  Scenario: A state organ needs an assessment, and a reason says the exemption does not lift it
    Given the exporter is a state organ in Shenzhen
    And the transfer carries personal information of 500 individuals
    And notice, separate consent and an impact assessment are in place
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the exemptions are under threshold
    And the rule engine.exemption-overridden applies
    And a reason cites "art. 37"

  Scenario Outline: Automotive data: the 2021 100,000 test ends when the 2026 guidelines were issued
    Given the exporter works in the automotive sector
    And the transfer is planned for <date>
    And the transfer carries personal information of 150,000 individuals
    And the data is tagged automotive
    And a GBA standard contract took effect on 2026-01-05 and was filed on 2026-01-09
    And the option automotive_100k_after_2026 is <option>
    And notice, separate consent and an impact assessment are in place
    When the transfer is evaluated
    Then the outcome is <outcome>
    And the mechanism is <mechanism>

    Examples:
      | date       | option | outcome     | mechanism           |
      | 2026-01-29 | off    | conditional | security assessment |
      | 2026-01-30 | off    | permitted   | standard contract   |
      | 2026-01-30 | on     | conditional | security assessment |

  Scenario: A data set collected abroad is exempt with its data set and left out of the count
    Given the transfer carries personal information of 300,000 individuals
    And the data was collected outside the Mainland
    And the transfer carries personal information of 50,000 individuals
    And notice, separate consent and an impact assessment are in place
    When the transfer is evaluated
    Then the outcome is permitted
    And the exemptions are under threshold
    And the rule cn.exempt.foreign-sets applies

  Scenario: A Hong Kong customer list for a Shenzhen company's direct marketing needs written consent
    Given the exporter is a company in Hong Kong
    And the recipient is a company in Shenzhen
    And the purpose is direct marketing
    And the data will be used for a new purpose
    And notice has been given
    And the transfer carries personal information of 20,000 individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And missing includes the obligation hk.dm-written-consent
    And a reason cites "s. 35J"

  Scenario Outline: A processor of more than 10 million individuals audits every two years (from 2025-05-01)
    Given the exporter processes personal information of 12,000,000 individuals in all
    And the transfer is planned for <date>
    And the transfer carries personal information of 50,000 individuals
    And notice, separate consent and an impact assessment are in place
    When the transfer is evaluated
    Then the outcome is permitted
    And the rule cn.compliance-audit <applies>
    And the rule cn.large-processor-duties applies

    Examples:
      | date       | applies        |
      | 2025-04-30 | does not apply |
      | 2025-05-01 | applies        |
