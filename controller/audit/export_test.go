package audit

// EngineOnly makes VerifyWith evaluate every commit through
// engine.EvaluateChange alone, as before the walk carried bookings.
func EngineOnly(o VerifyOptions) VerifyOptions { o.step = stepEngine; return o }

// CheckBookings makes VerifyWith check, at every commit it evaluates, the
// bookings it carried against a fresh read of the commit's tree.
func CheckBookings(o VerifyOptions) VerifyOptions { o.step = stepCheckBooks; return o }
