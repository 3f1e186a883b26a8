@certification @R-ENV-1
Feature: The token is valid
  The token is a JWT: signed (JWS, the best practice) or encrypted (JWE). The
  campaign checks its algorithm, its key, its claims and its lifetime.

  Background:
    Given the publisher page of the profile
    And a logged-in participant
    When the participant opens the page

  @jws @R-TOKEN-1 @R-TOKEN-2
  Scenario: A signed token uses an allowed algorithm and a known key
    Then the token is signed (JWS) with an allowed algorithm and a known key

  @jwe @R-TOKEN-1 @R-TOKEN-2
  Scenario: An encrypted token can be decrypted and is authenticated
    Then the token is encrypted (JWE) and the campaign can decrypt it

  @R-TOKEN-4 @R-TOKEN-5 @R-TOKEN-6
  Scenario: The token names the publisher, the participant and the campaign
    Then the token's issuer, audience, subject and campaignId are as expected

  @R-TOKEN-3
  Scenario: The token is used within its short lifetime
    Then the token is within its lifetime
