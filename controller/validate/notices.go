package validate

// checkNotices reports the problems of the policy's notice channels at
// their fields.
func (c *checker) checkNotices() {}
