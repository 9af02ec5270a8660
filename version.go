package psgate

// Version is psgate's release version.
const Version = "0.2.0"

// MinConnectorVersion is the oldest psgate connector the server accepts.
// 0.2.0: objects carry their default display properties as a
// PSStandardMembers member set, which 0.1.0 connectors cannot decode.
const MinConnectorVersion = "0.2.0"
