package history

// DecodeForTest exposes the cache file decoder to the fuzz target.
func DecodeForTest(data []byte) error {
	_, err := decode(data)
	return err
}

// SetBulkForTest makes every scan read pack files directly, however few its commits.
func SetBulkForTest(n int) (restore func()) {
	old := bulkCommits
	bulkCommits = n
	return func() { bulkCommits = old }
}
