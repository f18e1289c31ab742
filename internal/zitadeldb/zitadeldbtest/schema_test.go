package zitadeldbtest

import (
	"context"
	"testing"
	"time"
)

// count is one row of projections.resource_counts, without id and time.
type count struct {
	instance, table, parentType, parent, resource string
	amount                                        int
}

func counts(tb testing.TB, d *DB) map[count]bool {
	tb.Helper()
	rows, err := d.Conn.Query(context.Background(), `SELECT instance_id, table_name, parent_type, parent_id, resource_name, amount
		FROM projections.resource_counts`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := map[count]bool{}
	for rows.Next() {
		var c count
		if err := rows.Scan(&c.instance, &c.table, &c.parentType, &c.parent, &c.resource, &c.amount); err != nil {
			tb.Fatal(err)
		}
		out[c] = true
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func assertCounts(tb testing.TB, d *DB, want ...count) {
	tb.Helper()
	got := counts(tb, d)
	for _, w := range want {
		if !got[w] {
			tb.Errorf("missing %+v", w)
		}
		delete(got, w)
	}
	for extra := range got {
		tb.Errorf("unexpected %+v", extra)
	}
}

func users(instance, parent, resource string, amount int) count {
	return count{instance, "projections.users14", "organization", parent, resource, amount}
}

func instanceCount(instance, table, resource string, amount int) count {
	return count{instance, table, "instance", instance, resource, amount}
}

// Each rule of ZITADEL's counting (the schema's header lists them), one
// step at a time, against the rows the step leaves.
func TestCountingFollowsZitadel(t *testing.T) {
	d := New(t)
	const a = "312000000000000001"

	d.Exec(t, `INSERT INTO projections.users14 (instance_id, resource_owner, id, type) VALUES
		('312000000000000001', 'o1', 'u1', 1), ('312000000000000001', 'o1', 'u2', 2)`)
	assertCounts(t, d, users(a, "o1", "user", 2), users(a, "o1", "user_machine", 1))

	// Untracked: a human turned machine counts nothing new.
	d.Exec(t, `UPDATE projections.users14 SET type = 2 WHERE id = 'u1'`)
	assertCounts(t, d, users(a, "o1", "user", 2), users(a, "o1", "user_machine", 1))

	// Down to 0 and no further; the row stays.
	d.Exec(t, `DELETE FROM projections.users14`)
	d.Exec(t, `DELETE FROM projections.users14`)
	assertCounts(t, d, users(a, "o1", "user", 0), users(a, "o1", "user_machine", 0))

	// Tracked: enforce_mfa follows its condition, NULL never fires.
	d.Exec(t, `INSERT INTO projections.login_policies5 (instance_id, aggregate_id, force_mfa, force_mfa_local_only)
		VALUES ('312000000000000001', '312000000000000001', false, false)`)
	policies := instanceCount(a, "projections.login_policies5", "login_policy", 1)
	assertCounts(t, d, users(a, "o1", "user", 0), users(a, "o1", "user_machine", 0), policies)
	d.Exec(t, `UPDATE projections.login_policies5 SET force_mfa = true`)
	d.Exec(t, `UPDATE projections.login_policies5 SET force_mfa_local_only = true`)
	assertCounts(t, d, users(a, "o1", "user", 0), users(a, "o1", "user_machine", 0), policies,
		instanceCount(a, "projections.login_policies5", "enforce_mfa", 1))
	d.Exec(t, `UPDATE projections.login_policies5 SET force_mfa = false, force_mfa_local_only = NULL`)
	assertCounts(t, d, users(a, "o1", "user", 0), users(a, "o1", "user_machine", 0), policies,
		instanceCount(a, "projections.login_policies5", "enforce_mfa", 1))
	d.Exec(t, `UPDATE projections.login_policies5 SET force_mfa_local_only = false`)
	d.Exec(t, `UPDATE projections.notification_policies SET password_change = true`)
	d.Exec(t, `INSERT INTO projections.notification_policies (instance_id, id, password_change)
		VALUES ('312000000000000001', '312000000000000001', false)`)
	d.Exec(t, `UPDATE projections.notification_policies SET password_change = true`)
	assertCounts(t, d, users(a, "o1", "user", 0), users(a, "o1", "user_machine", 0), policies,
		instanceCount(a, "projections.login_policies5", "enforce_mfa", 1),
		instanceCount(a, "projections.notification_policies", "password_change_notification", 1))

	// Deleting the organization removes what is counted under it, and counts
	// the organization out of its instance.
	d.Exec(t, `INSERT INTO projections.orgs1 (instance_id, id) VALUES ('312000000000000001', 'o1'), ('312000000000000001', 'o2')`)
	d.Exec(t, `DELETE FROM projections.orgs1 WHERE id = 'o1'`)
	assertCounts(t, d, policies,
		instanceCount(a, "projections.login_policies5", "enforce_mfa", 1),
		instanceCount(a, "projections.notification_policies", "password_change_notification", 1),
		instanceCount(a, "projections.orgs1", "organization", 1))

	// Truncating a counted table removes its counts.
	d.Exec(t, `TRUNCATE projections.login_policies5`)
	assertCounts(t, d, instanceCount(a, "projections.notification_policies", "password_change_notification", 1),
		instanceCount(a, "projections.orgs1", "organization", 1))

	// Deleting the instance removes the counts whose parent it is.
	d.AddInstance(t, a, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	d.Exec(t, `DELETE FROM projections.instances WHERE id = '312000000000000001'`)
	assertCounts(t, d)
}

// A setup run recounts what the triggers missed: per parent with matching
// rows, none for a parent without, and a vanished parent keeps its count.
func TestRecountIsPerParentWithMatchingRows(t *testing.T) {
	d := New(t)
	const a = "312000000000000001"
	d.Exec(t, `INSERT INTO projections.users14 (instance_id, resource_owner, id, type) VALUES ('312000000000000001', 'gone', 'u0', 1)`)
	d.Exec(t, `ALTER TABLE projections.users14 DISABLE TRIGGER USER`)
	d.Exec(t, `DELETE FROM projections.users14`)
	d.Exec(t, `INSERT INTO projections.users14 (instance_id, resource_owner, id, type) VALUES
		('312000000000000001', 'o1', 'u1', 1), ('312000000000000001', 'o1', 'u2', 2), ('312000000000000001', 'o2', 'u3', 1)`)
	d.Exec(t, `ALTER TABLE projections.users14 ENABLE TRIGGER USER`)
	assertCounts(t, d, users(a, "gone", "user", 1))

	d.Exec(t, `CALL projections.recount('projections.users14', 'organization', 'instance_id', 'resource_owner', 'user')`)
	d.Exec(t, `CALL projections.recount('projections.users14', 'organization', 'instance_id', 'resource_owner', 'user_machine', '{row}.type = 2')`)
	assertCounts(t, d, users(a, "gone", "user", 1), users(a, "o1", "user", 2), users(a, "o2", "user", 1),
		users(a, "o1", "user_machine", 1))
}
