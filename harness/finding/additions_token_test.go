package finding

// The token codes qualcert adds (CONTRACT §6), documented in the README.
func init() {
	additions[TokenDuplicateMember] = true
	additions[TokenSecretShort] = true
}
