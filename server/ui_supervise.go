package server

// superviseUIRoutes registers the supervision dashboard pages.
func (s *Server) superviseUIRoutes() {}
