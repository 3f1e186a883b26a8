@reference
Feature: Qualifio's documented behaviour, on the demo publisher
  "Share information at the campaign load": the page hands the campaign a JWT
  with setMetaData; the campaign prefills its identification form from the
  data in the token or from the publisher's user-info webservice. In case of
  error (invalid token, no token, expired token), Qualifio sends an error
  message to the parent page and shows a spinner telling the participant they
  are blocked at the authentication step; so it does when setMetaData has not
  run before the campaign calls getMetaData.

  Each scenario opens one variant of the embedded demo publisher.

  @jws @inline-pii
  Scenario: A signed token with the participant's data prefills the form
    Given the demo variant "jws-inline"
    When the participant opens the page
    Then the campaign received a signed token (JWS)
    And the token carries the participant's data inline
    And the participant sees the identification form prefilled
    And the verdict is "passed"

  @jws @access-token
  Scenario: A signed token with an access token makes the campaign call the user-info webservice
    Given the demo variant "jws-access-token"
    When the participant opens the page
    Then the token carries an access token
    And the user-info webservice returns the participant's data
    And the participant sees the identification form prefilled
    And the verdict is "passed"

  @jwe
  Scenario: An encrypted token over a signed one (nested JWE) prefills the form
    Given the demo variant "jwe-nested"
    When the participant opens the page
    Then the campaign received an encrypted token (JWE)
    And the participant sees the identification form prefilled
    And the verdict is "passed"

  @jwe
  Scenario: A token encrypted with a shared key (direct JWE) prefills the form
    Given the demo variant "jwe-dir"
    When the participant opens the page
    Then the campaign received an encrypted token (JWE)
    And the participant sees the identification form prefilled
    And the verdict is "passed"

  @multiple-divids
  Scenario: Two campaigns on one page each get their own token by divId
    Given the demo variant "two-campaigns"
    When the participant opens the page
    Then each campaign receives its own token with its own campaignId
    And the participant sees the identification form prefilled
    And the verdict is "passed"

  @tag
  Scenario: Commands queued before the kit loads are replayed in order
    Given the demo variant "queued-before-loader"
    When the participant opens the page
    Then the Qualifio kit is loaded
    And every campaign receives its token before it asks for metadata
    And the participant sees the identification form prefilled

  @invalid-token @unhappy
  Scenario: An invalid token: error message to the parent page and spinner
    Given the demo variant "bad-signature"
    When the participant opens the page
    Then the campaign shows the blocked spinner
    And the page received an error message naming "token.signature_invalid"
    And the run reports "token.signature_invalid"
    And the verdict is "failed"

  @expired-token @unhappy
  Scenario: An expired token: error message to the parent page and spinner
    Given the demo variant "expired"
    When the participant opens the page
    Then the campaign shows the blocked spinner
    And the page received an error message naming "token.expired"
    And the verdict is "failed"

  @missing-token @unhappy
  Scenario: No token sent: error message to the parent page and spinner
    Given the demo variant "setmetadata-missing"
    When the participant opens the page
    Then the campaign shows the blocked spinner
    And the page received an error message naming "setmetadata.missing"
    And the verdict is "failed"

  @missing-token @logged-out @unhappy
  Scenario: An empty token for a visitor who is not logged in leaves them on the spinner
    Given the demo variant "logged-out-empty-token"
    When the participant opens the page
    Then the campaign shows the blocked spinner
    And the run reports "page.logged_out_blocked"

  @late-setmetadata @unhappy
  Scenario: setMetaData after getMetaData: the participant is blocked on the spinner
    Given the demo variant "token-late"
    When the participant opens the page
    Then the campaign shows the blocked spinner
    And the run reports "setmetadata.late"
    And the verdict is "failed"

  @expired-token @unhappy
  Scenario: A page that listens for the error message hands over a fresh token
    Given the demo variant "error-handled"
    When the participant opens the page
    Then the page received an error message naming "token.expired"
    And the page reacts with a new setMetaData
    And the verdict is "passed"

  @expired-token @unhappy
  Scenario: A page that ignores the error message leaves the participant blocked
    Given the demo variant "error-unhandled"
    When the participant opens the page
    Then the page received an error message naming "token.expired"
    And the run reports "page.error_unhandled"
