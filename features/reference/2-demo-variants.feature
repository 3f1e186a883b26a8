@reference
Feature: Every demo variant gets its expected verdict and findings
  The demo publisher serves one page per integration, good and faulty. Each
  must produce exactly the must- and should-level findings its description
  promises (harness/kit/PROTOCOL.md), no more and no fewer.

  Scenario Outline: Demo variant <variant>
    Given the demo variant "<variant>"
    When the participant opens the page
    Then the run reports exactly the variant's expected findings
    And the verdict is "<verdict>"

    @good
    Examples: good integrations
      | variant              | verdict |
      | jws-inline           | passed  |
      | jws-access-token     | passed  |
      | jwe-nested           | passed  |
      | jwe-dir              | passed  |
      | two-campaigns        | passed  |
      | queued-before-loader | passed  |
      | error-handled        | passed  |

    @faulty
    Examples: faulty integrations
      | variant                | verdict |
      | token-late             | failed  |
      | setmetadata-missing    | failed  |
      | wrong-divid            | failed  |
      | expired                | failed  |
      | not-yet-valid          | failed  |
      | bad-signature          | failed  |
      | alg-none               | failed  |
      | duplicate-iss          | failed  |
      | jwe-unsigned           | failed  |
      | field-missing          | failed  |
      | userinfo-failing       | failed  |
      | logged-out-empty-token | passed  |
      | token-leaked           | passed  |
      | divid-element          | passed  |
      | error-unhandled        | passed  |
