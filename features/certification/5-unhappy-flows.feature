@certification @unhappy @R-ENV-1
Feature: Unhappy flows
  When something is wrong with the token, Qualifio sends an error message to
  the parent page and shows a spinner telling the participant they are blocked
  at the authentication step. The page should listen for that message and
  react: hand over a fresh token, ask the participant to log in again, or take
  them somewhere useful. A page that does not react gets a warning (the
  certification still passes).

  @expired-token @R-FLOW-2
  Scenario: The page reacts when the campaign reports an expired token
    Given the publisher page of the profile
    And a logged-in participant
    And the campaign reports the error "token.expired" whatever the token
    When the participant opens the page
    Then the page received an error message naming "token.expired"
    And the page reacts to the error

  @invalid-token @R-FLOW-2
  Scenario: The page reacts when the campaign reports an invalid token
    Given the publisher page of the profile
    And a logged-in participant
    And the campaign reports the error "token.signature_invalid" whatever the token
    When the participant opens the page
    Then the page received an error message naming "token.signature_invalid"
    And the page reacts to the error

  @logged-out @missing-token @R-FLOW-3
  Scenario: A visitor who is not logged in is not left on the spinner
    Given the publisher page of the profile
    And a visitor who is not logged in
    When the participant opens the page
    Then the visitor is not left on the blocked spinner
