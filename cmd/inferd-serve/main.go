// Command inferd-serve is the inference server of inferd's demo leases and
// batch jobs: a small static binary (CGO_ENABLED=0) that goes into an OCI
// image on its own, so it stays apart from the inferd node binary (no
// libp2p, Badger or wasm runtime in the image).
//
//	inferd-serve serve -model /in/model [-listen :8080] [-name ID]
//	inferd-serve batch -model /in/model -data /in/data [-out /out]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/inferd/inferd/compute/serve"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "inferd-serve:", err)
		os.Exit(1)
	}
}

const usage = "usage: inferd-serve serve -model PATH [-listen ADDR] [-name ID] | inferd-serve batch -model PATH -data PATH [-out DIR]"

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("inferd-serve "+args[0], flag.ContinueOnError)
	model := fs.String("model", "/in/model", "the model: a safetensors file, or a directory holding one")
	switch args[0] {
	case "serve":
		listen := fs.String("listen", ":8080", "address to serve on")
		name := fs.String("name", "", "model id in the API (default mlp-<sha256 prefix>)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		l, err := serve.LoadModel(*model)
		if err != nil {
			return err
		}
		if *name != "" {
			if err := serve.SetID(l, *name); err != nil {
				return err
			}
		}
		return listenAndServe(*listen, l, stdout)
	case "batch":
		data := fs.String("data", "/in/data", "the dataset (CSV: features, then label)")
		out := fs.String("out", "/out", "directory to write predictions.csv and summary.json")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		l, err := serve.LoadModel(*model)
		if err != nil {
			return err
		}
		s, err := serve.Batch(context.Background(), l, *data, *out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "model %s: %d rows predicted, accuracy %d ppm; wrote %s and %s\n", s.Model, s.Rows, s.AccuracyPPM, serve.PredictionsFile, serve.SummaryFile)
		return nil
	default:
		return fmt.Errorf("unknown mode %q; %s", args[0], usage)
	}
}

func listenAndServe(addr string, l *serve.Loaded, stdout io.Writer) error {
	srv := &http.Server{Addr: addr, Handler: serve.Handler(l), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	fmt.Fprintf(stdout, "serving model %s (%d inputs, %d classes) on %s\n", l.ID, l.Model.Inputs(), l.Model.Outputs(), addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
