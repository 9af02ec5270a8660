package psgate

// Version is psgate's release version.
const Version = "0.1.0"

// MinConnectorVersion is the oldest psgate connector the server accepts.
const MinConnectorVersion = "0.1.0"
