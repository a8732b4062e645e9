// A scheduler on mesos-go's api/v1 HTTP client (httpsched, JSON codec), unchanged, following
// a stream that the master ends and resubscribing, driven by
// test/e2e/master-lambda/lambda/scheduler-stream-clients.test.ts.
//
// It subscribes, launches one task on the first offer (declining the rest; again under a new id
// if an offer withdrawn by a resubscription drops it), acknowledges every
// update, and waits for the task's TASK_FINISHED. When the event stream ends (the streaming
// Lambda's time limit) it subscribes again with its framework id, as a framework does after a
// master failover. Progress is printed as JSON lines; the last is {"done":true,...}. A failed
// call, an ERROR event, another framework id on resubscription or the deadline exits non-zero.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

func say(fields map[string]interface{}) {
	b, _ := json.Marshal(fields)
	fmt.Println(string(b))
}

func fail(format string, args ...interface{}) {
	say(map[string]interface{}{"done": false, "error": fmt.Sprintf(format, args...)})
	os.Exit(1)
}

func scalar(name string, v float64) mesos.Resource {
	return mesos.Resource{Name: name, Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: v}}
}

func main() {
	master := flag.String("master", "http://127.0.0.1:5050", "the scheduler API's base URL")
	timeout := flag.Duration("timeout", 90*time.Second, "the whole scenario's deadline")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	codec := codecs.ByMediaType[codecs.MediaTypeJSON]
	// The library's option for slow masters (its default waits 5 s for response headers; the
	// test's DynamoDB is moto on a shared machine).
	cli := httpsched.NewCaller(httpcli.New(httpcli.Endpoint(*master+"/api/v1/scheduler"), httpcli.Codec(codec), httpcli.Do(httpcli.With(httpcli.Timeout(30*time.Second)))))
	do := func(fid string, c *scheduler.Call) {
		resp, err := cli.Call(ctx, c.With(calls.Framework(fid)))
		if resp != nil {
			resp.Close()
		}
		if err != nil {
			fail("%s call failed: %v", c.GetType(), err)
		}
	}

	hostname := "localhost"
	failover := 60.0
	info := &mesos.FrameworkInfo{User: "root", Name: "mesos-go-stream", Hostname: &hostname, FailoverTimeout: &failover, Roles: []string{"*"}}
	fid := ""
	launched := false
	attempt := 0
	var updates []string
	subscriptions := 0

	for {
		call := calls.Subscribe(info)
		if fid != "" {
			call = call.With(calls.Framework(fid))
		}
		resp, err := cli.Call(ctx, call)
		if err != nil {
			fail("SUBSCRIBE (%d) failed: %v", subscriptions+1, err)
		}
		subscriptions++
	stream:
		for {
			var e scheduler.Event
			if err := resp.Decode(&e); err != nil {
				resp.Close()
				say(map[string]interface{}{"event": "stream_ended", "error": err.Error()})
				break stream
			}
			switch e.GetType() {
			case scheduler.Event_SUBSCRIBED:
				got := e.GetSubscribed().FrameworkID.Value
				if fid != "" && got != fid {
					fail("resubscribed as %s, not %s", got, fid)
				}
				event := "subscribed"
				if fid != "" {
					event = "resubscribed"
				}
				fid = got
				info.ID = &mesos.FrameworkID{Value: fid}
				say(map[string]interface{}{"event": event, "framework_id": fid})
			case scheduler.Event_OFFERS:
				offers := e.GetOffers().GetOffers()
				ids := make([]mesos.OfferID, 0, len(offers))
				for _, o := range offers {
					ids = append(ids, o.ID)
				}
				if launched || len(offers) == 0 {
					do(fid, calls.Decline(ids...).With(calls.RefuseSeconds(time.Hour)))
					continue
				}
				// A new id per attempt: an offer withdrawn by a resubscription drops the launch.
				attempt++
				shell := true
				command := "serve until the test ends it"
				t := mesos.TaskInfo{Name: "go-stream", TaskID: mesos.TaskID{Value: fmt.Sprintf("go-stream-%d", attempt)}, AgentID: offers[0].AgentID,
					Resources: []mesos.Resource{scalar("cpus", 0.1), scalar("mem", 16)}, Command: &mesos.CommandInfo{Shell: &shell, Value: &command}}
				do(fid, calls.Accept(calls.OfferOperations{calls.OpLaunch(t)}.WithOffers(offers[0].ID)))
				if len(ids) > 1 {
					do(fid, calls.Decline(ids[1:]...).With(calls.RefuseSeconds(time.Hour)))
				}
				launched = true
				say(map[string]interface{}{"event": "launched", "offers": len(offers)})
			case scheduler.Event_UPDATE:
				s := e.GetUpdate().GetStatus()
				if len(s.UUID) > 0 {
					do(fid, calls.Acknowledge(s.AgentID.GetValue(), s.TaskID.Value, s.UUID))
				}
				state := s.GetState().String()
				updates = append(updates, state)
				say(map[string]interface{}{"event": "update", "task_id": s.TaskID.Value, "state": state, "has_uuid": len(s.UUID) > 0})
				switch state {
				case "TASK_DROPPED", "TASK_LOST", "TASK_ERROR", "TASK_FAILED":
					if s.TaskID.Value == fmt.Sprintf("go-stream-%d", attempt) {
						launched = false
						do(fid, calls.Revive())
					}
				}
				if state == "TASK_FINISHED" {
					do(fid, &scheduler.Call{Type: scheduler.Call_TEARDOWN})
					resp.Close()
					say(map[string]interface{}{"done": true, "updates": updates, "subscriptions": subscriptions})
					return
				}
			case scheduler.Event_ERROR:
				fail("ERROR event: %s", e.GetError().GetMessage())
			}
		}
	}
}
