package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestDebugTick(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	tick := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339Nano)
	sql := `BEGIN TRANSACTION;
	INSERT IGNORE INTO job_schedule {id: $sid, spec: $spec, kind: $kind, updated_at: time::now()};
	LET $won = (UPDATE $sid SET last_tick = <datetime> $tick, spec = $spec, kind = $kind, updated_at = time::now()
		WHERE last_tick = NONE OR last_tick < <datetime> $tick RETURN VALUE record::id(id));
	IF array::len($won) > 0 {
		CREATE job CONTENT {kind: $kind, args: $args, state: 'queued', priority: 0, attempts: 0,
			max_attempts: $max, run_at: time::now(), unique_key: $key, created_at: time::now(), updated_at: time::now()};
	};
	RETURN array::len($won);
	COMMIT TRANSACTION;`
	for i := 0; i < 3; i++ {
		res, err := store.QueryAll[any](ctx, db, sql, map[string]any{"sid": store.RecordID("job_schedule", "s"), "spec": "x", "kind": "k", "args": "{}", "max": 3, "tick": tick, "key": fmt.Sprint("k", i)})
		fmt.Printf("%d %v %#v\n", i, err, res)
	}
	all, err := store.Query[any](ctx, db, "SELECT * FROM job_schedule; SELECT count() FROM job GROUP ALL", nil)
	fmt.Println(all, err)
	err = db.Exec(ctx, `FOR $i IN $from..$to { CREATE job CONTENT {kind: 'proof.effect', args: '{}', state: 'queued',
			max_attempts: 100, run_at: time::now(), created_at: time::now(), updated_at: time::now()} }`,
			map[string]any{"from": 0, "to": 5})
	fmt.Println(err)
	all, err = store.Query[any](ctx, db, "SELECT count() FROM job GROUP ALL", nil)
	fmt.Println(all, err)
}
