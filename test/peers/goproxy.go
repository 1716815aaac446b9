// A TCP proxy written the ordinary Go way: io.Copy between two *net.TCPConn, which on Linux uses
// splice(2) (TCPConn.ReadFrom). Usage: goproxy LISTEN_ADDR UPSTREAM_ADDR. Prints LISTENING once
// it accepts; runs until killed. Every error is printed to stderr (the test counts them).
package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	fmt.Println("LISTENING")
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "accept:", err)
			continue
		}
		go proxy(c.(*net.TCPConn), os.Args[2])
	}
}

func proxy(client *net.TCPConn, upstream string) {
	defer client.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		return
	}
	up := u.(*net.TCPConn)
	defer up.Close()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(up, client) // client -> upstream: splice
		up.CloseWrite()
		done <- err
	}()
	if _, err := io.Copy(client, up); err != nil { // upstream -> client: splice
		fmt.Fprintln(os.Stderr, "copy upstream->client:", err)
	}
	client.CloseWrite()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "copy client->upstream:", err)
	}
}
