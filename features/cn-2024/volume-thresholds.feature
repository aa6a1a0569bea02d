Feature: Mainland 2024 regime — volume thresholds decide the route
  Provisions on Promoting and Regulating Cross-Border Data Flows (2024), arts. 5(4), 7, 8.
  "以上" includes the number and "不满" excludes it (Civil Code art. 1259). Counts run from
  1 January of the planned date's year and include this transfer.

  Background:
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong
    And the transfer is planned for 2026-12-01
    And notice, separate consent and an impact assessment are in place

  Scenario Outline: Non-sensitive personal information around 100,000 and 1,000,000 individuals
    Given the transfer carries personal information of <individuals> individuals
    When the transfer is evaluated
    Then the outcome is <outcome>
    And the mechanism is <mechanism>
    And the mechanism options are <options>
    And the exemptions are <exemptions>

    Examples:
      | individuals | outcome     | mechanism           | options                                         | exemptions      |
      | 1           | permitted   | none                | none                                            | under threshold |
      | 99,999      | permitted   | none                | none                                            | under threshold |
      | 100,000     | conditional | standard contract   | GBA standard contract, standard contract, certification | none    |
      | 999,999     | conditional | standard contract   | GBA standard contract, standard contract, certification | none    |
      | 1,000,000   | conditional | security assessment | security assessment                             | none            |

  Scenario Outline: Sensitive personal information around 10,000 individuals
    Given the transfer carries sensitive personal information (medical health) of <individuals> individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is <mechanism>
    And the rule <rule> applies

    Examples:
      | individuals | mechanism           | rule                        |
      | 1           | standard contract   | cn.pi.sensitive-below-10k   |
      | 9,999       | standard contract   | cn.pi.sensitive-below-10k   |
      | 10,000      | security assessment | cn.pi.sensitive-10k-or-more |

  @cn-03
  Scenario: cn-03 Exactly 100,000 individuals — standard-contract tier, nothing in place
    Given the transfer carries personal information of 100,000 individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is standard contract
    And the mechanism options are GBA standard contract, standard contract and certification
    And no exemption applies
    And missing includes the mechanism standard contract
    And a reason cites "art. 8"

  @cn-04
  Scenario: cn-04 999,999 individuals under a filed GBA standard contract
    Given the transfer carries personal information of 999,999 individuals
    And a GBA standard contract took effect on 2026-10-15 and was filed on 2026-10-21
    When the transfer is evaluated
    Then the outcome is permitted
    And the mechanism is standard contract
    And the mechanism options are GBA standard contract, standard contract, certification
    And nothing is missing
    And the obligation gba.filing is satisfied

  @cn-05
  Scenario: cn-05 Exactly 1,000,000 individuals — a GBA contract is not enough
    Given the transfer carries personal information of 1,000,000 individuals
    And a GBA standard contract took effect on 2026-10-15 and was filed on 2026-10-21
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is security assessment
    And the mechanism options are security assessment
    And missing includes the mechanism security assessment
    And missing includes the obligation cn.sa-self-assessment
    And a reason cites "art. 7(2)"

  @cn-06
  Scenario: cn-06 9,999 individuals' health data under a filed national standard contract
    Given the purpose is healthcare
    And the transfer carries sensitive personal information (medical health) of 9,999 individuals
    And a standard contract took effect on 2026-09-01 and was filed on 2026-09-08
    When the transfer is evaluated
    Then the outcome is permitted
    And the mechanism is standard contract
    And the mechanism options are GBA standard contract, standard contract, certification
    And the rule cn.sensitive-duties applies
    And the obligation cn.sc-filing is satisfied

  @cn-08
  Scenario: cn-08 One individual's sensitive PI — no de minimis for sensitive data
    Given the purpose is research
    And the transfer carries sensitive personal information (medical health) of 1 individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is standard contract
    And no exemption applies
    And the rule cn.exempt.under-threshold does not apply

  @cn-09
  Scenario: cn-09 Declared earlier volume pushes the year over 100,000
    Given earlier this year the exporter sent personal information of 80,000 individuals
    And the transfer carries personal information of 30,000 individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is standard contract
    And no exemption applies
    And missing includes the mechanism certification

  Scenario: Earlier sensitive volume reaches 10,000 across the year
    Given earlier this year the exporter sent sensitive personal information of 4,000 individuals
    And the transfer carries sensitive personal information (financial account) of 6,000 individuals
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the rule cn.pi.sensitive-10k-or-more applies

  Scenario: Last year's volume does not count under the 2024 regime
    Given last year the exporter sent personal information of 900,000 individuals
    And the transfer carries personal information of 5,000 individuals
    When the transfer is evaluated
    Then the outcome is permitted
    And the exemptions are under threshold

  Scenario: Sensitive individuals count only in the sensitive tally by default
    Given the transfer carries these data sets:
      | kind     | individuals | sensitive      |
      | personal | 60,000      |                |
      | personal | 50,000      | medical health |
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the rule cn.pi.100k-to-1m does not apply
    And the rule cn.pi.sensitive-10k-or-more applies

  Scenario: Several non-sensitive data sets of one transfer add up
    Given the transfer carries these data sets:
      | kind         | individuals | classification |
      | personal     | 60,000      | general        |
      | personal     | 40,000      | general        |
      | non-personal |             | general        |
    When the transfer is evaluated
    Then the mechanism is standard contract
    And the rule cn.pi.100k-to-1m applies

  Scenario: The stricter reading counts sensitive individuals in both tallies
    Given the option count_sensitive_in_both is on
    And the transfer carries these data sets:
      | kind     | individuals | sensitive      |
      | personal | 60,000      |                |
      | personal | 5,000       | medical health |
    And earlier this year the exporter sent personal information of 40,000 individuals
    When the transfer is evaluated
    Then the rule cn.pi.100k-to-1m applies
    And the rule cn.pi.sensitive-below-10k applies
