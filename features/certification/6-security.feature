@certification @security @R-ENV-1
Feature: The token stays between the page and the campaign
  The token identifies the participant: it must go to the campaign and
  nowhere else (no other host, no URL, no console log). A leak is a warning
  (the certification still passes), to fix before going live.

  @R-SEC-1
  Scenario: The token does not leak
    Given the publisher page of the profile
    And a logged-in participant
    When the participant opens the page
    Then the token does not leak to other hosts or to the console
