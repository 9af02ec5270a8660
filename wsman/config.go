package wsman

// ConfigInfo is the part of WinRM's configuration a gateway reports to a
// transfer Get on ResourceConfig (pypsrp update_max_payload_size reads
// cfg:MaxEnvelopeSizekb). Zero fields other than MaxEnvelopeSizeKB are
// omitted; the cfg:Winrs section appears when one of its fields is set.
type ConfigInfo struct {
	MaxEnvelopeSizeKB int
	MaxTimeoutMS      int
	MaxBatchItems     int

	// cfg:Winrs
	IdleTimeoutMS        int
	MaxConcurrentUsers   int
	MaxShellRunTimeMS    int
	MaxProcessesPerShell int
	MaxMemoryPerShellMB  int
	MaxShellsPerUser     int
}

// EncodeConfig encodes the GetResponse for ResourceConfig.
func EncodeConfig(h Header, cfg ConfigInfo) []byte {
	b := make([]byte, 0, 1536)
	b = appendEnvelopeStart(b, nsTransferSet, h, ActionGetResponse)
	b = append(b, `<cfg:Config xmlns:cfg="`+NsConfig+`">`...)
	b = appendIntElem(b, "cfg:MaxEnvelopeSizekb", cfg.MaxEnvelopeSizeKB)
	b = appendNonZero(b, "cfg:MaxTimeoutms", cfg.MaxTimeoutMS)
	b = appendNonZero(b, "cfg:MaxBatchItems", cfg.MaxBatchItems)
	if cfg.IdleTimeoutMS != 0 || cfg.MaxConcurrentUsers != 0 || cfg.MaxShellRunTimeMS != 0 ||
		cfg.MaxProcessesPerShell != 0 || cfg.MaxMemoryPerShellMB != 0 || cfg.MaxShellsPerUser != 0 {
		b = append(b, "<cfg:Winrs><cfg:AllowRemoteShellAccess>true</cfg:AllowRemoteShellAccess>"...)
		b = appendNonZero(b, "cfg:IdleTimeout", cfg.IdleTimeoutMS)
		b = appendNonZero(b, "cfg:MaxConcurrentUsers", cfg.MaxConcurrentUsers)
		b = appendNonZero(b, "cfg:MaxShellRunTime", cfg.MaxShellRunTimeMS)
		b = appendNonZero(b, "cfg:MaxProcessesPerShell", cfg.MaxProcessesPerShell)
		b = appendNonZero(b, "cfg:MaxMemoryPerShellMB", cfg.MaxMemoryPerShellMB)
		b = appendNonZero(b, "cfg:MaxShellsPerUser", cfg.MaxShellsPerUser)
		b = append(b, "</cfg:Winrs>"...)
	}
	b = append(b, "</cfg:Config>"...)
	return append(b, envClose...)
}

func appendNonZero(b []byte, tag string, v int) []byte {
	if v == 0 {
		return b
	}
	return appendIntElem(b, tag, v)
}

// IdentifyInfo is the content of a wsmid:IdentifyResponse.
type IdentifyInfo struct {
	// ProtocolVersion defaults to the DMTF WS-Management namespace, as
	// WinRM reports it.
	ProtocolVersion string
	ProductVendor   string
	ProductVersion  string
	// SecurityProfiles lists wsmid:SecurityProfileName URIs; WinRM sends
	// them only to authenticated requests.
	SecurityProfiles []string
}

// EncodeIdentifyResponse encodes the answer to wsmid:Identify, which has
// no addressing headers.
func EncodeIdentifyResponse(info IdentifyInfo) []byte {
	b := make([]byte, 0, 768)
	b = append(b, `<s:Envelope xml:lang="en-US" xmlns:s="`+NsSOAP+`"><s:Header/><s:Body>`...)
	b = append(b, `<wsmid:IdentifyResponse xmlns:wsmid="`+NsIdentity+`">`...)
	b = appendElem(b, "wsmid:ProtocolVersion", orDefault(info.ProtocolVersion, NsWSMan))
	b = appendElem(b, "wsmid:ProductVendor", info.ProductVendor)
	b = appendElem(b, "wsmid:ProductVersion", info.ProductVersion)
	if len(info.SecurityProfiles) > 0 {
		b = append(b, "<wsmid:SecurityProfiles>"...)
		for _, p := range info.SecurityProfiles {
			b = appendElem(b, "wsmid:SecurityProfileName", p)
		}
		b = append(b, "</wsmid:SecurityProfiles>"...)
	}
	b = append(b, "</wsmid:IdentifyResponse>"...)
	return append(b, envClose...)
}
