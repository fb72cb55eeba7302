package builtins

import (
	"fmt"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/record"
)

// Clients gives scripts Kafka clients (app.get_producer(),
// app.get_consumer()); package runtime provides it, connected to the
// application's broker.
type Clients interface {
	Producer(app *Application) (ProducerClient, error)
	Consumer(app *Application, autoCommit bool) (ConsumerClient, error)
}

// ProducerClient produces raw messages.
type ProducerClient interface {
	Produce(m *record.Record) error
	Flush(timeout time.Duration) error
}

// ConsumerClient consumes raw messages in the application's group.
type ConsumerClient interface {
	Subscribe(topics []string) error
	Poll(timeout time.Duration) (*record.Record, error)
	Close() error
}

// Producer is the script's producer from app.get_producer():
//
//	producer.produce(topic, value, key=None, headers=None, partition=None, timestamp=None)
//	producer.flush(timeout=None)
//
// topic is a Topic (the value and key are serialized with its
// serializers) or a topic name (value and key must be bytes or str).
type Producer struct {
	p ProducerClient
}

// Consumer is the script's consumer from app.get_consumer():
//
//	consumer.subscribe(topics)
//	consumer.poll(timeout=1.0) -> Message or None
//	consumer.close()
//
// A Message has topic, partition, offset, key, value (bytes or None),
// timestamp and headers.
type Consumer struct {
	c ConsumerClient
}

func (p *Producer) String() string        { return "<Producer>" }
func (p *Producer) Type() string          { return "Producer" }
func (p *Producer) Freeze()               {}
func (p *Producer) Truth() starlark.Bool  { return true }
func (p *Producer) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: Producer") }
func (c *Consumer) String() string        { return "<Consumer>" }
func (c *Consumer) Type() string          { return "Consumer" }
func (c *Consumer) Freeze()               {}
func (c *Consumer) Truth() starlark.Bool  { return true }
func (c *Consumer) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: Consumer") }

var producerMethods = map[string]*starlark.Builtin{
	"produce": starlark.NewBuiltin("Producer.produce", producerProduce),
	"flush":   starlark.NewBuiltin("Producer.flush", producerFlush),
}

var consumerMethods = map[string]*starlark.Builtin{
	"subscribe": starlark.NewBuiltin("Consumer.subscribe", consumerSubscribe),
	"poll":      starlark.NewBuiltin("Consumer.poll", consumerPoll),
	"close":     starlark.NewBuiltin("Consumer.close", consumerClose),
}

func (p *Producer) Attr(name string) (starlark.Value, error) {
	if m, ok := producerMethods[name]; ok {
		return m.BindReceiver(p), nil
	}
	return nil, nil
}
func (p *Producer) AttrNames() []string { return methodNames(producerMethods) }

func (c *Consumer) Attr(name string) (starlark.Value, error) {
	if m, ok := consumerMethods[name]; ok {
		return m.BindReceiver(c), nil
	}
	return nil, nil
}
func (c *Consumer) AttrNames() []string { return methodNames(consumerMethods) }

// appGetProducer implements app.get_producer().
func appGetProducer(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	app := b.Receiver().(*Application)
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	if app.reg.Clients == nil {
		return nil, fmt.Errorf("%s: no Kafka clients here (only scripts run by `qstar run` can produce)", b.Name())
	}
	p, err := app.reg.Clients.Producer(app)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	app.usedClients = true
	return &Producer{p: p}, nil
}

// appGetConsumer implements app.get_consumer(auto_commit_enable=True).
func appGetConsumer(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	app := b.Receiver().(*Application)
	autoCommit := true
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "auto_commit_enable?", &autoCommit); err != nil {
		return nil, err
	}
	if app.reg.Clients == nil {
		return nil, fmt.Errorf("%s: no Kafka clients here (only scripts run by `qstar run` can consume)", b.Name())
	}
	c, err := app.reg.Clients.Consumer(app, autoCommit)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	app.usedClients = true
	return &Consumer{c: c}, nil
}

func rawBytes(fn, what string, v starlark.Value) ([]byte, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Bytes:
		return []byte(v), nil
	case starlark.String:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("%s: %s must be bytes or str when topic is a name (pass the Topic to serialize it), got %s", fn, what, v.Type())
}

func producerProduce(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	p := b.Receiver().(*Producer)
	var topic, value starlark.Value
	var key, headers, partition, timestamp starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "topic", &topic, "value", &value, "key?", &key,
		"headers?", &headers, "partition?", &partition, "timestamp?", &timestamp); err != nil {
		return nil, err
	}
	m := &record.Record{Partition: -1}
	var err error
	switch t := topic.(type) {
	case *Topic:
		// Serialized as to_topic does.
		m.Topic = t.Name()
		if _, m.Key, m.Value, err = t.t.Serialize(nil, key, value); err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		m.Headers = t.t.ExtraHeaders()
	case starlark.String:
		m.Topic = string(t)
		if m.Key, err = rawBytes(b.Name(), "key", key); err != nil {
			return nil, err
		}
		if m.Value, err = rawBytes(b.Name(), "value", value); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: topic must be a Topic or a str, not %s", b.Name(), topic.Type())
	}
	hs, err := unpackHeaders(headers)
	if err != nil {
		return nil, fmt.Errorf("%s: headers: %v", b.Name(), err)
	}
	m.Headers = engine.MergeHeaders(hs, m.Headers)
	if partition != starlark.None {
		n, err := starlark.AsInt32(partition)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: partition must be a non-negative int", b.Name())
		}
		m.Partition = int32(n)
	}
	if timestamp != starlark.None {
		i, ok := timestamp.(starlark.Int)
		ts, ok2 := i.Int64()
		if !ok || !ok2 {
			return nil, fmt.Errorf("%s: timestamp must be an int of milliseconds", b.Name())
		}
		m.Timestamp = ts
	}
	if err := p.p.Produce(m); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}

func producerFlush(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	p := b.Receiver().(*Producer)
	var timeout starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "timeout?", &timeout); err != nil {
		return nil, err
	}
	d := time.Minute
	if timeout != starlark.None {
		var err error
		if d, err = seconds(b.Name(), "timeout", timeout, true); err != nil {
			return nil, err
		}
	}
	if err := p.p.Flush(d); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}

func consumerSubscribe(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	c := b.Receiver().(*Consumer)
	var topics starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "topics", &topics); err != nil {
		return nil, err
	}
	var names []string
	it := starlark.Iterate(topics)
	if it == nil {
		return nil, fmt.Errorf("%s: topics must be a list of Topics or names", b.Name())
	}
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		switch t := x.(type) {
		case *Topic:
			names = append(names, t.Name())
		case starlark.String:
			names = append(names, string(t))
		default:
			return nil, fmt.Errorf("%s: topics must be Topics or names, got %s", b.Name(), x.Type())
		}
	}
	if err := c.c.Subscribe(names); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}

func consumerPoll(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	c := b.Receiver().(*Consumer)
	var timeout starlark.Value = starlark.Float(1.0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "timeout?", &timeout); err != nil {
		return nil, err
	}
	d, err := seconds(b.Name(), "timeout", timeout, true)
	if err != nil {
		return nil, err
	}
	m, err := c.c.Poll(d)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if m == nil {
		return starlark.None, nil
	}
	return messageValue(m), nil
}

func consumerClose(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	if err := b.Receiver().(*Consumer).c.Close(); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}
