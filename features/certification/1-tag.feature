@certification @tag @R-ENV-1
Feature: The campaign tag
  Qualifio's JS tag loads the kit and puts each campaign in an iframe inside
  its div. The campaign must be served from the publisher's own CNAME, and the
  "mini-site" publication channel cannot receive the participant's identity.

  Background:
    Given the publisher page of the profile
    And a logged-in participant
    When the participant opens the page

  @R-TAG-1 @R-FLOW-4
  Scenario: The page loads the Qualifio kit
    Then the Qualifio kit is loaded
    And the page lets the campaign talk to the kit

  @R-TAG-2
  Scenario: Every campaign gets its iframe in its own div
    Then every campaign of the profile gets its iframe
    And every campaign's div is on the page
    And every campaign is created with the host of the profile

  @R-TAG-3 @R-TAG-4
  Scenario: The campaigns are served from the publisher's own site
    Then every campaign host is a CNAME of the page's site
    And the page is not a Qualifio mini-site
