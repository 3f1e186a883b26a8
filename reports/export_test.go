package reports

// CheckJUnitSchema exposes the structural JUnit check to the end-to-end
// tests of package reports_test.
var CheckJUnitSchema = checkJUnitSchema
