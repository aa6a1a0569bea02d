Feature: The ledger over a year
  Each submission is evaluated with what the ledger has already counted for the exporter this
  calendar year, and recorded. Only permitted transfers count; exempt volumes under arts. 4 and
  5(1)-(3) do not (default option); a withdrawn transfer releases its counts. Each scenario has
  its own fresh SQLite ledger.

  Background:
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong
    And notice, separate consent and an impact assessment are in place

  Scenario: Volume sent earlier in the year pushes a later transfer over 100,000
    Given the transfer "LEDGER-01" is planned for 2026-03-01
    And the transfer carries personal information of 60,000 individuals
    When the transfer is submitted to the ledger
    Then the outcome is permitted
    And the exemptions are under threshold
    When a new transfer "LEDGER-02" is planned for 2026-06-01
    And the transfer carries personal information of 50,000 individuals
    And the transfer is submitted to the ledger
    Then the outcome is conditional
    And the mechanism is standard contract
    And the ledger counts 60,000 individuals and 0 sensitive for the exporter in 2026

  Scenario: A withdrawn transfer releases its counts
    Given the transfer "LEDGER-01" is planned for 2026-03-01
    And the transfer carries personal information of 60,000 individuals
    When the transfer is submitted to the ledger
    And the transfer "LEDGER-01" is withdrawn
    Then the ledger counts 0 individuals for the exporter in 2026
    When a new transfer "LEDGER-02" is planned for 2026-06-01
    And the transfer carries personal information of 50,000 individuals
    And the transfer is submitted to the ledger
    Then the outcome is permitted
    And the ledger counts 50,000 individuals for the exporter in 2026

  Scenario: Exempt HR volume is not counted toward the thresholds
    Given the purpose is hr management
    And the transfer "LEDGER-HR" is planned for 2026-02-01
    And the transfer carries personal information of 120,000 individuals
    When the transfer is submitted to the ledger
    Then the exemptions are hr management
    And the transfer does not count toward the year's tally
    When a new transfer "LEDGER-OTHER" is planned for 2026-03-01
    And the purpose is other
    And the transfer carries personal information of 5,000 individuals
    And the transfer is submitted to the ledger
    Then the outcome is permitted
    And the ledger counts 5,000 individuals for the exporter in 2026

  Scenario: Submitting the same transfer twice is a replay and counts once
    Given the transfer "LEDGER-01" is planned for 2026-03-01
    And the transfer carries personal information of 60,000 individuals
    When the transfer is submitted to the ledger
    Then the submission is not a replay
    When the transfer is submitted to the ledger
    Then the submission is a replay
    And the ledger counts 60,000 individuals for the exporter in 2026

  Scenario: A new calendar year starts the count afresh
    Given the transfer "LEDGER-2026" is planned for 2026-12-01
    And the transfer carries personal information of 90,000 individuals
    When the transfer is submitted to the ledger
    And a new transfer "LEDGER-2027" is planned for 2027-01-05
    And the transfer carries personal information of 20,000 individuals
    And the transfer is submitted to the ledger
    Then the outcome is permitted
    And the ledger counts 90,000 individuals for the exporter in 2026
    And the ledger counts 20,000 individuals for the exporter in 2027

  Scenario: The same population sent again counts only its increase
    Given the transfer "MEMBERS-Q1" is planned for 2026-03-01
    And the transfer carries personal information of 60,000 individuals
    And the data belongs to the population "members-2026"
    When the transfer is submitted to the ledger
    And a new transfer "MEMBERS-Q2" is planned for 2026-06-01
    And the transfer carries personal information of 70,000 individuals
    And the data belongs to the population "members-2026"
    And the transfer is submitted to the ledger
    Then the outcome is permitted
    And the ledger counts 70,000 individuals for the exporter in 2026

  Scenario: Withdrawing the first transfer of a population leaves the later one's individuals counted
    Given the transfer "MEMBERS-Q1" is planned for 2026-03-01
    And the transfer carries personal information of 60,000 individuals
    And the data belongs to the population "members-2026"
    When the transfer is submitted to the ledger
    And a new transfer "MEMBERS-Q2" is planned for 2026-06-01
    And the transfer carries personal information of 90,000 individuals
    And the data belongs to the population "members-2026"
    And the transfer is submitted to the ledger
    And the transfer "MEMBERS-Q1" is withdrawn
    Then the ledger counts 90,000 individuals for the exporter in 2026
    When a new transfer "NEWSLETTER" is planned for 2026-09-01
    And the transfer carries personal information of 50,000 individuals
    And the transfer is submitted to the ledger
    Then the outcome is conditional
    And the mechanism is standard contract
    And the ledger counts 90,000 individuals for the exporter in 2026

  Scenario: Sensitive individuals accumulate in their own tally
    Given a standard contract took effect on 2026-01-05 and was filed on 2026-01-12
    And the transfer "SENS-01" is planned for 2026-03-01
    And the transfer carries sensitive personal information (medical health) of 6,000 individuals
    When the transfer is submitted to the ledger
    Then the outcome is permitted
    When a new transfer "SENS-02" is planned for 2026-06-01
    And the transfer carries sensitive personal information (medical health) of 4,000 individuals
    And the transfer is submitted to the ledger
    Then the outcome is conditional
    And the mechanism is security assessment
    And the ledger counts 0 individuals and 6,000 sensitive for the exporter in 2026

  Scenario: Health records of members whose contact details were sent count in full in the sensitive tally
    Given a standard contract took effect on 2026-01-05 and was filed on 2026-01-12
    And the transfer "MEMBERS-CONTACT" is planned for 2026-03-01
    And the transfer carries personal information of 5,000 individuals
    And the data belongs to the population "members-2026"
    When the transfer is submitted to the ledger
    And a new transfer "MEMBERS-HEALTH" is planned for 2026-06-01
    And the transfer carries sensitive personal information (medical health) of 8,000 individuals
    And the data belongs to the population "members-2026"
    And the transfer is submitted to the ledger
    Then the outcome is permitted
    And the ledger counts 5,000 individuals and 8,000 sensitive for the exporter in 2026
    When a new transfer "PATIENTS" is planned for 2026-09-01
    And the transfer carries sensitive personal information (medical health) of 4,000 individuals
    And the transfer is submitted to the ledger
    Then the outcome is conditional
    And the mechanism is security assessment

  Scenario: Under the 2022 regime last year's recorded volume counts
    Given a standard contract took effect on 2023-06-05 and was filed on 2023-06-12
    And the transfer "Y2023" is planned for 2023-07-01
    And the transfer carries personal information of 50,000 individuals
    When the transfer is submitted to the ledger
    Then the outcome is permitted
    When a new transfer "Y2024" is planned for 2024-02-01
    And the transfer carries personal information of 60,000 individuals
    And the transfer is submitted to the ledger
    Then the mechanism is security assessment
    And the rule cn22.volume-since-previous-year applies
