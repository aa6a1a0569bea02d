Feature: Mainland 2022 regime (2022-09-01 to 2024-03-21)
  Security Assessment Measures (2022) art. 4 and, from 2023-06-01, the Standard Contract Measures
  (2023): counting since 1 January of the previous year, the 1,000,000-processed test, and no
  de minimis exemption. Before 2023-06-01 certification was the contract-tier route.

  Background:
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong
    And notice, separate consent and an impact assessment are in place

  @cn-22
  Scenario: cn-22 2022 regime — 5,000 individuals in January 2024, no de minimis yet
    Given the exporter works in the consulting sector
    And the exporter processes personal information of 200,000 individuals in all
    And the transfer is planned for 2024-01-15
    And the transfer carries personal information of 5,000 individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is standard contract
    And the mechanism options are standard contract, certification
    And no exemption applies
    And the rule cn22.contract-tier applies

  @cn-23
  Scenario: cn-23 2022 regime — previous-year volume counts (since 1 January 2023)
    Given the transfer is planned for 2024-02-20
    And last year the exporter sent personal information of 70,000 individuals
    And the transfer carries personal information of 40,000 individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is security assessment
    And the mechanism options are security assessment
    And the rule cn22.volume-since-previous-year applies

  Scenario Outline: Since 1 January of the previous year: 100,000 individuals
    Given the transfer is planned for 2024-02-20
    And last year the exporter sent personal information of <last year> individuals
    And the transfer carries personal information of 1,000 individuals
    When the transfer is evaluated
    Then the mechanism is <mechanism>

    Examples:
      | last year | mechanism           |
      | 98,999    | standard contract   |
      | 99,000    | security assessment |

  Scenario Outline: Since 1 January of the previous year: 10,000 sensitive individuals
    Given the transfer is planned for 2024-02-20
    And last year the exporter sent sensitive personal information of <last year> individuals
    And the transfer carries sensitive personal information (financial account) of 1 individuals
    When the transfer is evaluated
    Then the mechanism is <mechanism>

    Examples:
      | last year | mechanism           |
      | 9,998     | standard contract   |
      | 9,999     | security assessment |

  Scenario Outline: A processor handling 1,000,000 individuals needed an assessment for any export
    Given the transfer is planned for 2024-01-15
    And the exporter processes personal information of <processed> individuals in all
    And the transfer carries personal information of 10 individuals
    When the transfer is evaluated
    Then the mechanism is <mechanism>

    Examples:
      | processed | mechanism           |
      | 999,999   | standard contract   |
      | 1,000,000 | security assessment |

  Scenario: A CIIO under the 2022 regime
    Given the exporter is a critical information infrastructure operator
    And the transfer is planned for 2023-08-01
    And the transfer carries personal information of 10 individuals
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the rule cn22.ciio applies

  Scenario: Important data under the 2022 regime
    Given the transfer is planned for 2023-08-01
    And the transfer carries non-personal data
    And the data is classified as important
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the rule cn22.important-data applies

  Scenario Outline: The day the 2024 Provisions took effect (2024-03-22)
    Given the transfer is planned for <date>
    And the transfer carries personal information of 5,000 individuals
    When the transfer is evaluated
    Then the outcome is <outcome>
    And the mechanism is <mechanism>

    Examples:
      | date       | outcome     | mechanism         |
      | 2024-03-21 | conditional | standard contract |
      | 2024-03-22 | permitted   | none              |

  Scenario Outline: Before the Standard Contract Measures (2023-06-01) only certification served
    Given the transfer is planned for <date>
    And the transfer carries personal information of 5,000 individuals
    When the transfer is evaluated
    Then the mechanism options are <options>

    Examples:
      | date       | options                        |
      | 2023-05-31 | certification                  |
      | 2023-06-01 | standard contract, certification |

  Scenario: Before 2022-09-01 the engine does not decide the route
    Given the transfer is planned for 2022-08-15
    And the transfer carries personal information of 5,000 individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And the rule cn.pre-2022-regime applies
    And missing includes a legal review
