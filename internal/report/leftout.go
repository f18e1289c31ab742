package report

// Why a row of the metric contract is not in a report.
type LeftOutReason int

const (
	// LeftOutWithheld: a collector-only resource that send_resources does not name.
	LeftOutWithheld LeftOutReason = iota
	// LeftOutInvalid: a value the service would refuse (see the error logged).
	LeftOutInvalid
	// LeftOutNoSystemID: no zitadel.system.id and no system_id configured.
	LeftOutNoSystemID
	// LeftOutNoInstance: none of the system's instances could be sent.
	LeftOutNoInstance
	LeftOutReasons
)

var LeftOutNames = [LeftOutReasons]string{"withheld", "invalid", "no_system_id", "no_instance"}

// leave records n rows left out of the report for reason.
func (r *Built) leave(reason LeftOutReason, n int) { r.leftOut[reason] += n }
