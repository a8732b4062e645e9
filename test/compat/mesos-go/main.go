// A scheduler on mesos-go's api/v1 HTTP client (httpsched, JSON codec), unchanged, driven
// against a Stratus master by test/e2e/master-lambda/mesos-go-scheduler.test.ts.
//
// It subscribes, launches three tasks in ONE ACCEPT, acknowledges every update, kills the
// long-running one, reconciles all three, suppresses, and tears down. Progress is printed as
// JSON lines; the last is {"done":true,...}. Any call the library reports as failed, an ERROR
// event, an unexpected task state or a stream that ends early exits non-zero.
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

func task(id string, agent mesos.AgentID, command string) mesos.TaskInfo {
	shell := true
	return mesos.TaskInfo{
		Name:      id,
		TaskID:    mesos.TaskID{Value: id},
		AgentID:   agent,
		Resources: []mesos.Resource{scalar("cpus", 0.1), scalar("mem", 16)},
		Command:   &mesos.CommandInfo{Shell: &shell, Value: &command},
	}
}

type run struct {
	ctx     context.Context
	cli     calls.Caller
	fid     string
	stage   string
	agent   string
	states  map[string]string
	reconc  map[string]string
	updates int
	acks    int
}

// do sends a call with the framework id; the library refuses (error) anything but 2xx.
func (r *run) do(c *scheduler.Call) {
	c = c.With(calls.Framework(r.fid))
	resp, err := r.cli.Call(r.ctx, c)
	if resp != nil {
		resp.Close()
	}
	if err != nil {
		fail("%s call failed: %v", c.GetType(), err)
	}
}

func main() {
	master := flag.String("master", "http://127.0.0.1:5050", "the master's base URL")
	timeout := flag.Duration("timeout", 60*time.Second, "the whole scenario's deadline")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	codec := codecs.ByMediaType[codecs.MediaTypeJSON]
	http := httpcli.New(httpcli.Endpoint(*master+"/api/v1/scheduler"), httpcli.Codec(codec))
	r := &run{ctx: ctx, cli: httpsched.NewCaller(http), stage: "subscribe", states: map[string]string{}, reconc: map[string]string{}}

	hostname := "localhost"
	failover := 60.0
	info := &mesos.FrameworkInfo{
		User:            "root",
		Name:            "mesos-go-compat",
		Hostname:        &hostname,
		FailoverTimeout: &failover,
		Roles:           []string{"*"},
		Capabilities:    []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE}},
	}
	resp, err := r.cli.Call(ctx, calls.Subscribe(info))
	if err != nil {
		fail("SUBSCRIBE failed: %v", err)
	}
	defer resp.Close()

	for r.stage != "done" {
		var e scheduler.Event
		if err := resp.Decode(&e); err != nil {
			fail("event stream ended at stage %s: %v", r.stage, err)
		}
		switch e.GetType() {
		case scheduler.Event_SUBSCRIBED:
			s := e.GetSubscribed()
			r.fid = s.FrameworkID.Value
			r.stage = "offers"
			version := ""
			if s.MasterInfo != nil && s.MasterInfo.Version != nil {
				version = *s.MasterInfo.Version
			}
			say(map[string]interface{}{"event": "subscribed", "framework_id": r.fid, "master_version": version})
		case scheduler.Event_OFFERS:
			r.offers(e.GetOffers().GetOffers())
		case scheduler.Event_UPDATE:
			r.update(e.GetUpdate().GetStatus())
		case scheduler.Event_ERROR:
			fail("ERROR event: %s", e.GetError().GetMessage())
		case scheduler.Event_HEARTBEAT, scheduler.Event_RESCIND:
		default:
			say(map[string]interface{}{"event": e.GetType().String()})
		}
	}
	say(map[string]interface{}{"done": true, "states": r.states, "reconciled": r.reconc, "updates": r.updates, "acks": r.acks})
}

func (r *run) offers(offers []mesos.Offer) {
	ids := make([]mesos.OfferID, 0, len(offers))
	for _, o := range offers {
		ids = append(ids, o.ID)
	}
	if r.stage != "offers" || len(offers) == 0 {
		r.do(calls.Decline(ids...).With(calls.RefuseSeconds(time.Second)))
		return
	}
	first := offers[0]
	r.agent = first.AgentID.Value
	launch := calls.OpLaunch(task("go-a", first.AgentID, "echo a"), task("go-b", first.AgentID, "echo b"), task("go-long", first.AgentID, "serve forever"))
	r.do(calls.Accept(calls.OfferOperations{launch}.WithOffers(first.ID)).With(calls.RefuseSeconds(time.Second)))
	if len(ids) > 1 {
		r.do(calls.Decline(ids[1:]...).With(calls.RefuseSeconds(time.Second)))
	}
	r.stage = "running"
	say(map[string]interface{}{"event": "launched", "agent_id": r.agent, "tasks": 3})
}

func (r *run) update(s mesos.TaskStatus) {
	tid := s.TaskID.Value
	state := s.GetState().String()
	reason := ""
	if s.Reason != nil {
		reason = s.Reason.String()
	}
	r.updates++
	say(map[string]interface{}{"event": "update", "task_id": tid, "state": state, "reason": reason, "has_uuid": len(s.UUID) > 0})
	if len(s.UUID) > 0 {
		r.do(calls.Acknowledge(s.AgentID.GetValue(), tid, s.UUID))
		r.acks++
	}
	switch state {
	case "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED", "TASK_KILLING", "TASK_KILLED":
	default:
		fail("task %s: unexpected %s (%s): %s", tid, state, reason, s.GetMessage())
	}
	if reason == "REASON_RECONCILIATION" {
		r.reconc[tid] = state
		if r.stage == "reconcile" && len(r.reconc) == 3 {
			r.do(calls.Suppress())
			r.do(&scheduler.Call{Type: scheduler.Call_TEARDOWN})
			r.stage = "done"
		}
		return
	}
	r.states[tid] = state
	if r.stage == "running" && r.states["go-a"] == "TASK_FINISHED" && r.states["go-b"] == "TASK_FINISHED" && r.states["go-long"] == "TASK_RUNNING" {
		r.do(calls.Kill("go-long", r.agent))
		r.stage = "killing"
		say(map[string]interface{}{"event": "kill_sent"})
	}
	if r.stage == "killing" && r.states["go-long"] == "TASK_KILLED" {
		r.do(calls.Reconcile(calls.ReconcileTasks(map[string]string{"go-a": r.agent, "go-b": r.agent, "go-long": r.agent})))
		r.stage = "reconcile"
		say(map[string]interface{}{"event": "reconcile_sent"})
	}
}
