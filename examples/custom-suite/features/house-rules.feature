# Our house rules, next to qualcert's certification suite.
# "Given/When/Then ..." sentences of qualcert are listed by `qualcert steps`;
# the last step of the first scenario is our own (suite_test.go).
@house
Feature: Example Media's house rules

  Scenario: Our tokens are signed with our group's algorithm, in time
    Given the publisher page of the profile
    And a logged-in participant
    When the participant opens the page
    Then every campaign receives its token before it asks for metadata
    And our tokens are signed with ES256

  @throttled
  Scenario: On a slow phone the campaign still shows the prefilled form
    Given the publisher page of the profile
    And the participant uses a slow phone on a slow network
    When the participant opens the page
    Then the participant sees the identification form prefilled
