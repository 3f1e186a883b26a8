@certification @R-ENV-1
Feature: The participant's data prefill the identification form
  The token carries either the participant's data directly (inline), or an
  access token that the campaign uses to call the publisher's user-info
  webservice. Either way the participant ends on the prefilled form.

  Background:
    Given the publisher page of the profile
    And a logged-in participant
    When the participant opens the page

  @inline-pii @R-TOKEN-7 @R-PII-1 @R-FLOW-1
  Scenario: The token carries the participant's data
    Then the token carries the participant's data inline
    And the participant sees the identification form prefilled

  @access-token @R-TOKEN-7 @R-PII-1 @R-USERINFO-1 @R-FLOW-1
  Scenario: The token carries an access token for the user-info webservice
    Then the token carries an access token
    And the user-info webservice returns the participant's data
    And the participant sees the identification form prefilled
