"""Object bytes on disk: spooled uploads and the atomic blob store."""
