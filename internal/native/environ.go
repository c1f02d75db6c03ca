package native

// Environ is the environment the tools run with (the CLI configuration among it),
// for a result cache that must key on what decides their answers.
func (e *Executor) Environ() []string { return append([]string(nil), e.env...) }
