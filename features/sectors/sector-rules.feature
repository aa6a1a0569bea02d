Feature: Mainland sector rules on top of the general regime
  Human genetic resources, surveying and mapping, credit reporting, personal financial
  information, population health, automotive and scientific data (research: sectors.md).

  Background:
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong
    And notice, separate consent and an impact assessment are in place

  @sec-01
  Scenario: sec-01 Human genetic resources information (exome data of 800 patients) to a Hong Kong university
    Given the exporter is a research institution in Shenzhen
    And the exporter works in the healthcare sector
    And the recipient is a research institution in Hong Kong
    And the purpose is academic cooperation
    And the transfer carries sensitive personal information (medical health) of 800 individuals
    And the data is tagged human genetic resources
    And a GBA standard contract took effect on 2026-11-10 and was filed on 2026-11-15
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is standard contract
    And the mechanism options are GBA standard contract, standard contract, certification
    And no exemption applies
    And missing includes the approval human genetic resources filing
    And missing includes the approval human genetic resources review

  Scenario Outline: The HGR security review starts at 500 individuals
    Given the transfer carries sensitive personal information (medical health) of <individuals> individuals
    And the data is tagged human genetic resources
    When the transfer is evaluated
    Then the rule sec.hgr.prior-report applies
    And the rule sec.hgr.security-review <review>

    Examples:
      | individuals | review         |
      | 499         | does not apply |
      | 500         | applies        |

  @sec-02
  Scenario: sec-02 Vehicle-collected point-cloud and imagery map data to a Hong Kong R&D affiliate
    Given the exporter works in the automotive sector
    And the purpose is research
    And the transfer carries non-personal data
    And the data is tagged surveying and mapping
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is none
    And the exemptions are non personal
    And missing includes the approval surveying and mapping

  Scenario: State-secret surveying results may not go out without approval
    Given the transfer carries non-personal data
    And the data is classified as a state secret
    And the data is tagged surveying and mapping
    When the transfer is evaluated
    Then the outcome is prohibited
    And the rule sec.surveying.state-secret applies

  @sec-03
  Scenario: sec-03 Shenzhen credit reporting agency to a Hong Kong bank, 2,000 credit reports, filed GBA contract
    Given the exporter works in the credit reporting sector
    And the purpose is financial services
    And the transfer carries sensitive personal information (financial account) of 2,000 individuals
    And the data is tagged credit reporting
    And a GBA standard contract took effect on 2026-11-10 and was filed on 2026-11-15
    When the transfer is evaluated
    Then the outcome is permitted
    And the mechanism is standard contract
    And the rule sec.credit-reporting applies

  @sec-04
  Scenario: sec-04 Shenzhen bank branch to its Hong Kong head office, 8,000 customers' financial information
    Given the exporter works in the banking sector
    And the purpose is financial services
    And the transfer carries sensitive personal information (financial account) of 8,000 individuals
    And the data is tagged personal financial
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is standard contract
    And the mechanism options are GBA standard contract, standard contract, certification
    And the rule sec.personal-financial applies
    And the obligation sec.pfi-express-consent is satisfied

  Scenario: Under the literal reading of the 2011 PBOC notice a bank may not provide the data
    Given the option pboc_2011_notice_bars_provision is on
    And the exporter works in the banking sector
    And the transfer carries sensitive personal information (financial account) of 8,000 individuals
    And the data is tagged personal financial
    When the transfer is evaluated
    Then the outcome is prohibited
    And the rule sec.personal-financial.literal-ban applies

  @sec-05
  Scenario: sec-05 Hetao (Shenzhen Park) research institute to a Hong Kong university, non-personal research data
    Given the exporter is a research institution in Shenzhen
    And the exporter is in the hetao_shenzhen_park zone
    And the recipient is a research institution in Hong Kong
    And the purpose is academic cooperation
    And the transfer carries non-personal data
    And the data is tagged research
    When the transfer is evaluated
    Then the outcome is permitted
    And the mechanism is none
    And the exemptions are non personal
    And the rule sec.scientific-data.check applies

  Scenario: Secret scientific data needs the secrecy approval
    Given the transfer carries non-personal data
    And the data is classified as a state secret
    And the data is tagged research
    When the transfer is evaluated
    Then the outcome is prohibited
    And the rule sec.scientific-data.secret applies

  @sec-06
  Scenario: sec-06 Carmaker's outside-vehicle video (faces, licence plates) to a Hong Kong R&D centre
    Given the exporter works in the automotive sector
    And the purpose is research
    And the transfer carries sensitive personal information (biometric) of 300,000 individuals
    And the data is classified as important
    And the data is tagged automotive
    And a GBA standard contract took effect on 2026-11-10 and was filed on 2026-11-15
    When the transfer is evaluated
    Then the outcome is conditional
    And the mechanism is security assessment
    And the mechanism options are security assessment
    And the rule sec.automotive.important-data applies
    And the rule sec.automotive.pi-over-100k does not apply

  Scenario Outline: Population health information: hosting abroad is barred, providing a copy is not
    Given the mode is <mode>
    And the transfer carries personal information of 3,000 individuals
    And the data is tagged population health
    When the transfer is evaluated
    Then the outcome is <outcome>
    And the rule <rule> applies

    Examples:
      | mode           | outcome    | rule                                 |
      | storage abroad | prohibited | sec.population-health.hosting-abroad |
      | provide        | permitted  | sec.population-health.provision      |
