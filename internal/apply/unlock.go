package apply

import (
	"context"
	"strings"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/state"
)

// Unlock releases a layer's state lock, but only when id is exactly the lock's ID:
// the lock is read first (from the lock object in the bucket, else from the
// engine's own refusal to lock) and a wrong ID is refused, naming the holder.
func Unlock(ctx context.Context, l *layers.Layer, id string, opts Options) (*Report, error) {
	id = strings.TrimSpace(id)
	if id == "" || strings.HasPrefix(id, "-") || strings.ContainsAny(id, " \t\n") {
		return nil, &InputError{"--lock-id must be the exact lock ID shown by the run that could not lock (or by a failed unlock)"}
	}
	opts.ExtraArgs = nil
	if err := opts.check(OpUnlock); err != nil {
		return nil, err
	}
	start := now()
	x := newLayerRun(OpUnlock, l, &opts)
	x.emit("start")
	x.unlock(ctx, id)
	x.res.Duration = now().Sub(start)
	if opts.OnEvent != nil {
		opts.OnEvent(Event{Op: OpUnlock, Layer: l, Step: "done", Result: &x.res})
	}
	return &Report{Op: OpUnlock, Engine: opts.Engine, Layers: []LayerResult{x.res}, Duration: x.res.Duration}, nil
}

func (x *layerRun) unlock(ctx context.Context, id string) {
	if !x.prepare(ctx) {
		return
	}
	held, known := x.currentLock(ctx)
	if x.res.Status != "" {
		return
	}
	switch {
	case known && held == nil:
		x.res.Status, x.res.Reason = NotLocked, "the state is not locked; nothing was changed"
		return
	case held != nil && held.ID != id:
		x.res.Status, x.res.Lock = Refused, held
		x.res.Reason = "lock ID " + x.opts.Masker.Mask(id) + " is not the lock held: the state is " + held.Describe(now())
		return
	}
	x.emit("unlock")
	if _, ok := x.exec(ctx, "force-unlock", x.cmds.forceUnlock(id)); !ok {
		return
	}
	if after, known := x.currentLock(ctx); known && after != nil && after.ID == id {
		x.res.Status, x.res.Reason = Error, "force-unlock reported success but the lock is still held"
		return
	}
	x.res.Status, x.res.Lock = Unlocked, held
}

// currentLock reads the lock: known is false when this backend's lock cannot be
// read, in which case the engine's force-unlock is trusted to check the ID.
func (x *layerRun) currentLock(ctx context.Context) (*state.Lock, bool) {
	settings := state.Resolve(x.cfg.backendType, x.cfg.backend, x.backend, x.opts.Getenv)
	if settings.Type != "s3" || !settings.UseLockfile {
		return nil, false
	}
	st, err := state.NewStore(settings)
	if err != nil {
		return nil, false
	}
	l, err := st.Lock(ctx)
	if err != nil {
		x.res.Status, x.res.Reason = Error, x.opts.Masker.Mask(err.Error())
		return nil, false
	}
	return l, true
}
