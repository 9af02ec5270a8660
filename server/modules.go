package server

import (
	"fmt"

	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/module"
)

// ReloadModules reads the module folder again and replaces the module
// cmdlets in one step (psgate serve does it on SIGHUP, systemctl reload):
// open sessions see the new set at their next command; commands running
// finish with the old one. A broken module, or a name that clashes,
// changes nothing and is returned with its file and line; the gateway
// keeps serving the modules it had.
func (s *Server) ReloadModules() error {
	if s.cfg.ModuleDir == "" {
		return fmt.Errorf("server: no module folder is configured (modules.dir); nothing to reload")
	}
	mods, err := module.LoadDir(s.cfg.ModuleDir)
	if err == nil {
		err = s.modules.Reload(mods)
	}
	if err != nil {
		s.log.Error("modules not reloaded: the ones loaded before stay", "dir", s.cfg.ModuleDir, logkey.Err, err)
		return fmt.Errorf("server: reload modules: %w", err)
	}
	n := 0
	for _, m := range mods {
		n += len(m.Cmdlets)
		s.log.Info("module loaded", "module", m.Name, "file", m.File, "cmdlets", len(m.Cmdlets))
	}
	s.log.Info("modules reloaded", "modules", len(mods), "cmdlets", n)
	return nil
}
