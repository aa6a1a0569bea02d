Feature: Mainland — mechanisms in place, filing windows, bans and general duties
  A standard contract counts from the day it takes effect while still inside its 10-working-day
  filing window (Standard Contract Measures art. 7); after the window, only once filed.

  Background:
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong
    And notice, separate consent and an impact assessment are in place

  @cn-20
  Scenario: cn-20 Standard contract in effect, filing not yet made but still within 10 working days
    Given the transfer carries personal information of 150,000 individuals
    And a standard contract took effect on 2026-11-26 and has not been filed
    When the transfer is evaluated
    Then the outcome is permitted
    And the mechanism is standard contract
    And an obligation cn.sc-filing is due on 2026-12-10
    And the obligation cn.sc-filing is not satisfied

  @cn-21
  Scenario: cn-21 Standard contract never filed — filing deadline passed
    Given the transfer carries personal information of 150,000 individuals
    And a standard contract took effect on 2026-11-02 and has not been filed
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is standard contract
    And missing includes the mechanism standard contract
    And an obligation cn.sc-filing is due on 2026-11-16

  Scenario: An expired standard contract does not count
    Given the transfer carries personal information of 150,000 individuals
    And a standard contract took effect on 2025-01-02, was filed on 2025-01-10 and expires on 2026-06-30
    When the transfer is evaluated
    Then the outcome is conditional
    And missing includes the mechanism standard contract

  Scenario: A passed security assessment satisfies the assessment level and carries its validity duties
    Given the transfer carries personal information of 1,500,000 individuals
    And a security assessment was passed on 2025-06-01 and expires on 2028-05-31
    When the transfer is evaluated
    Then the outcome is permitted
    And the mechanism is security assessment
    And the rule cn.sa-validity applies
    And the obligation cn.sa-self-assessment is satisfied

  Scenario: A certification satisfies the contract tier
    Given the transfer carries personal information of 200,000 individuals
    And a certification was issued on 2026-03-01
    When the transfer is evaluated
    Then the outcome is permitted
    And nothing is missing

  @cn-15
  Scenario: cn-15 Notified important data (non-personal) for a research partner
    Given the exporter is a research institution in Shenzhen
    And the purpose is research
    And the transfer carries non-personal data
    And the data is classified as important
    And the data is tagged research
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is security assessment
    And no exemption applies
    And the rule cn.important-data applies

  @cn-16
  Scenario: cn-16 Core data
    Given the exporter works in the energy sector
    And the transfer carries non-personal data
    And the data is classified as core data
    When the transfer is evaluated
    Then the outcome is prohibited
    And the mechanism is prohibited
    And the mechanism options are none
    And the rule cn.core-data applies

  Scenario: Core data under the reading that it has no statutory ban
    Given the option core_data_prohibited is off
    And the transfer carries non-personal data
    And the data is classified as core data
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is security assessment

  @cn-17
  Scenario: cn-17 State secret
    Given the exporter works in the defence sector
    And the transfer carries non-personal data
    And the data is classified as a state secret
    When the transfer is evaluated
    Then the outcome is prohibited
    And the mechanism is prohibited
    And missing includes the approval state secret

  Scenario: A request from a Hong Kong court without Mainland approval
    Given the purpose is a judicial request
    And the transfer carries personal information of 20 individuals
    When the transfer is evaluated
    Then the outcome is prohibited
    And missing includes the approval foreign judicial request
    And a reason cites "art. 36"

  Scenario: A judicial request approved by the Mainland authority follows the ordinary route
    Given the purpose is a judicial request
    And the transfer carries personal information of 20 individuals
    And an approval for judicial request was granted on 2026-11-20
    When the transfer is evaluated
    Then the outcome is permitted
    And the rule cn.judicial-request-approved applies
    And the exemptions are under threshold

  Scenario: Under the reading that Hong Kong courts are not foreign
    Given the option hk_authorities_as_foreign is off
    And the purpose is a judicial request
    And the transfer carries personal information of 20 individuals
    When the transfer is evaluated
    Then the outcome is permitted
    And the rule cn.foreign-judicial-request does not apply

  Scenario: A state organ exporting personal information needs a security assessment
    Given the exporter is a state organ in Shenzhen
    And the transfer carries personal information of 50 individuals
    When the transfer is evaluated
    Then the mechanism is security assessment
    And the rule cn.state-organ applies
    And a reason cites "PIPL (2021), art. 36"

  Scenario: Remote access from Hong Kong is an outbound transfer
    Given the mode is remote access
    And the transfer carries personal information of 5,000 individuals
    When the transfer is evaluated
    Then the outcome is permitted
    And the rule cn.remote-access applies

  Scenario: Children's personal information needs a guardian's consent
    Given the transfer carries sensitive personal information (children under 14) of 300 individuals
    When the transfer is evaluated
    Then the rule cn.minors-duties applies
    And the obligation cn.minor-consent is satisfied
