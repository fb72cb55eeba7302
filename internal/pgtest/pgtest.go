// Package pgtest starts a throwaway PostgreSQL server for tests: Debian's
// server binaries (package postgresql, which `make test` installs) on a
// loopback port, with its data in a temporary directory, stopped when the
// test ends. Run as root, the server runs as the postgres user, which
// PostgreSQL requires.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running PostgreSQL server.
type Server struct {
	Host     string
	Port     int
	User     string
	Password string
	DBName   string
}

// DSN returns the server's connection string.
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", s.User, s.Password, s.Host, s.Port, s.DBName)
}

// binDir finds the server binaries: initdb on PATH, else Debian's
// /usr/lib/postgresql/<version>/bin.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb): install the Debian package postgresql (make test does)")
}

// Start starts a server for the test, with user "qstar", password
// "qstar" and database "qstar"; it stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, stop, err := Launch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

// Launch starts a server (for a program that is not a test: the
// benchmarks) with user "qstar", password "qstar" and database "qstar";
// stop shuts it down and removes its data.
func Launch() (s *Server, stop func(), err error) {
	bin, err := binDir()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "qstar-pg-")
	if err != nil {
		return nil, nil, err
	}
	var cleanups []func()
	stop = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	defer func() {
		if err != nil {
			stop()
		}
	}()
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, nil, fmt.Errorf("running as root, the server needs the postgres user (from the postgresql package): %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, nil, err
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = dir
		return cmd
	}
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte("qstar\n"), 0o644); err != nil {
		return nil, nil, err
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-U", "qstar", "--pwfile", pwfile, "-A", "md5", "-E", "UTF8", "--locale", "C").CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	server := run("postgres", "-D", data, "-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir, "-c", "fsync=off")
	var log strings.Builder
	server.Stdout, server.Stderr = &log, &log
	if err := server.Start(); err != nil {
		return nil, nil, err
	}
	cleanups = append(cleanups, func() {
		_ = server.Process.Signal(syscall.SIGINT) // fast shutdown
		done := make(chan struct{})
		go func() { _ = server.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = server.Process.Kill()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("postgres did not listen on %d within 30s:\n%s", port, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s = &Server{Host: "127.0.0.1", Port: port, User: "qstar", Password: "qstar", DBName: "postgres"}
	// The server accepts connections a moment after it listens.
	for {
		err := s.Exec("CREATE DATABASE qstar")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("create database: %v\n%s", err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.DBName = "qstar"
	return s, stop, nil
}

// Exec runs SQL statements on the server's database.
func (s *Server) Exec(sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(ctx, sql, args...)
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
