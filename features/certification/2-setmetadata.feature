@certification @timing @R-ENV-1
Feature: The page hands over the token before the campaign asks for it
  The page calls _qual_async.push(['setMetaData', 'JWT', token, divId]) for
  each campaign. The campaign asks its parent for the metadata (getMetaData)
  once its iframe has loaded: a token that arrives after that leaves the
  participant blocked on a spinner. A token that comes first by less than
  200 ms, or late only on a slow phone, is a race: a warning.

  @late-setmetadata @R-SETMETADATA-1 @R-SETMETADATA-2 @R-SETMETADATA-3 @R-SETMETADATA-4
  Scenario: Every campaign receives its token before it asks for it
    Given the publisher page of the profile
    And a logged-in participant
    When the participant opens the page
    Then every campaign receives its token before it asks for metadata
    And the report shows the margin between setMetaData and getMetaData
    And setMetaData names the type 'JWT' and the campaign's div id

  @throttled @late-setmetadata @R-SETMETADATA-2
  Scenario: The token still comes first on a slow phone and a slow network
    Given the publisher page of the profile
    And a logged-in participant
    And the participant uses a slow phone on a slow network
    When the participant opens the page
    Then every campaign receives its token before it asks for metadata
    And the report shows the margin between setMetaData and getMetaData

  @multiple-divids @R-SETMETADATA-4 @R-TOKEN-6 @R-FLOW-1
  Scenario: Several campaigns on one page each get their own token
    Given the publisher page of the profile
    And the profile has several campaigns
    And a logged-in participant
    When the participant opens the page
    Then setMetaData names the type 'JWT' and the campaign's div id
    And each campaign receives its own token with its own campaignId
    And the participant sees the identification form prefilled
