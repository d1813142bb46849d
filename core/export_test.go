package core

// Hooks for the external tests: the multiscale jump rule's settings.
var (
	MsKappa          = &msKappa
	MsRepeats        = &msRepeats
	MsAlwaysTruncate = &msAlwaysTruncate
	MsTaylor         = &msTaylor
)
