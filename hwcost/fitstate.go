package hwcost

import (
	"github.com/multihw/multihw/internal/jobstate"
)

// FitStateFile is where `multihw cost fit` keeps what it has finished (in
// its output directory; see internal/jobstate), so that a killed fit resumes
// there: the reference devices and each adapt study's rows, device by
// device. The fit of the targets itself (about a minute) is redone; its
// parameters and the program key the rest. The file is removed when the
// fit's files are written.
const FitStateFile = ".cost-fit-state"

// fitStateKey identifies what the saved parts depend on: the program and the
// fitted parameters the reference devices and studies start from.
func fitStateKey(params *ParamSet) (string, error) { return jobstate.ProgramKey(params.JSON()) }

// Part names of the state: the reference devices, and a study's row of one
// device.
const refsPart = "reference devices"

func rowPart(study, device string) string { return "study\x00" + study + "\x00" + device }
