package validate

// checkTypeRules reports the problems of the policy's release type rules and
// exception role at their fields.
func (c *checker) checkTypeRules() {}
