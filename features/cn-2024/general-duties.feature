Feature: Mainland — duties before every export of personal information
  PIPL arts. 38, 39, 55(4), 56: notice, separate consent and an impact assessment come first,
  whatever the route.

  Background:
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong

  Scenario: Without notice, the notice duty is missing
    Given separate consent has been obtained
    And the transfer carries personal information of 100 individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And missing includes the obligation cn.notice
    And the obligation cn.separate-consent is satisfied

  Scenario: An impact assessment completed after the planned date does not count
    Given notice has been given
    And separate consent has been obtained
    And an impact assessment was completed on 2026-12-05
    And the transfer carries personal information of 100 individuals
    When the transfer is evaluated
    Then missing includes the obligation cn.pia
