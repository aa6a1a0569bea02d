Feature: Mainland 2024 regime — exemptions of arts. 3 to 6
  No exemption covers important data. Art. 5(4) is residual: it applies only where no other
  exemption does.

  Background:
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong

  @cn-01
  Scenario: cn-01 Non-personal, non-important trade data goes out freely
    Given the exporter works in the logistics sector
    And the purpose is international trade
    And the transfer carries non-personal data
    When the transfer is evaluated
    Then the outcome is permitted
    And the mechanism is none
    And the mechanism options are none
    And the exemptions are non personal
    And a reason cites "art. 3"

  @cn-11
  Scenario: cn-11 Group HR data for 120,000 employees to the Hong Kong regional head office
    Given notice, separate consent and an impact assessment are in place
    And the purpose is hr management
    And the transfer carries personal information of 120,000 individuals
    When the transfer is evaluated
    Then the outcome is permitted
    And the mechanism is none
    And the exemptions are hr management
    And a reason cites "art. 5(2)"
    And the transfer does not count toward the year's tally

  @cn-12
  Scenario: cn-12 Emergency transfer of one patient's records to a Hong Kong hospital
    Given notice, separate consent and an impact assessment are in place
    And the purpose is emergency protection
    And the transfer carries sensitive personal information (medical health) of 1 individuals
    When the transfer is evaluated
    Then the outcome is permitted
    And the exemptions are emergency
    And the rule cn.consent-non-consent-basis applies

  Scenario: Cross-border shopping: necessary to perform a contract with the individuals
    Given notice, separate consent and an impact assessment are in place
    And the purpose is contract performance
    And the transfer carries personal information of 2,000,000 individuals
    When the transfer is evaluated
    Then the outcome is permitted
    And the mechanism is none
    And the exemptions are contract necessity
    And a reason cites "art. 5(1)"
    And the rule cn.separate-consent-needed does not apply

  Scenario: Important data is never exempt, whatever the purpose
    Given notice, separate consent and an impact assessment are in place
    And the purpose is hr management
    And the transfer carries personal information of 500 individuals
    And the data is classified as important
    When the transfer is evaluated
    Then the mechanism is security assessment
    And no exemption applies

  @cn-14
  Scenario: cn-14 CIIO sends 500 customers' contact details — no de minimis for CIIOs
    Given notice, separate consent and an impact assessment are in place
    And the exporter is a critical information infrastructure operator
    And the exporter works in the transport sector
    And the transfer carries personal information of 500 individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is security assessment
    And no exemption applies
    And the rule cn.pi.ciio applies

  @cn-25
  Scenario: cn-25 Under the de minimis line but no separate consent and no PIA
    Given the exporter is a company in Shenzhen
    And notice has been given
    And the transfer carries personal information of 5,000 individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is none
    And the exemptions are under threshold
    And missing includes the obligation cn.pia
    And missing includes the obligation cn.separate-consent

  @hk-03
  Scenario: hk-03 Round trip: Hong Kong data processed in Shenzhen and returned to Hong Kong
    Given notice, separate consent and an impact assessment are in place
    And the exporter works in the it services sector
    And the purpose is business services
    And the transfer carries personal information of 200,000 individuals
    And the data was collected outside the Mainland
    When the transfer is evaluated
    Then the outcome is permitted
    And the mechanism is none
    And the exemptions are foreign reexport
    And a reason cites "art. 4"

  Scenario: Anonymised data is not personal information
    Given notice, separate consent and an impact assessment are in place
    And the transfer carries personal information of 300,000 individuals
    And the data is anonymised
    When the transfer is evaluated
    Then the outcome is permitted
    And the exemptions are non personal
