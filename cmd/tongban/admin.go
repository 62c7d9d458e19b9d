package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
)

func init() {
	register(command{name: "migrate", usage: "migrate [--data DIR] [--db DSN]", summary: "apply database migrations", run: cmdMigrate})
	register(command{name: "dept add", usage: "dept add CODE NAME [--parent CODE] [--kind bureau|street|centre|supervision]", summary: "add a department", run: cmdDeptAdd})
	register(command{name: "user add", usage: "user add LOGIN --dept CODE --role ROLE[,ROLE…] [--name NAME] --password-stdin", summary: "add a user; the password is read from standard input", run: cmdUserAdd})
	register(command{name: "apikey add", usage: "apikey add NAME", summary: "create an API key and print it once (only its hash is stored)", run: cmdAPIKeyAdd})
	register(command{name: "backup", usage: "backup FILE", summary: "write a consistent copy of the live database to FILE", run: cmdBackup})
	register(command{name: "workdays add", usage: "workdays add DATE N", summary: "print the date N working days after DATE (DATE not counted)", run: cmdWorkdaysAdd})
	register(command{name: "workdays between", usage: "workdays between A B", summary: "print the number of working days after A up to and including B", run: cmdWorkdaysBetween})
}

func cmdMigrate(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	fs := newFlags("migrate", "migrate [--data DIR] [--db DSN]", "Apply the embedded migrations to the store (also done at every start).", out)
	sf := addStoreFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, "migrate"); err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(out, "migrations applied")
	return nil
}

func cmdDeptAdd(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	const u = "dept add CODE NAME [--parent CODE] [--kind KIND]"
	fs := newFlags("dept add", u, "Add a department: a bureau, a street office (street), the command centre (centre) or the supervision office (supervision).", out)
	sf := addStoreFlags(fs)
	parent := fs.String("parent", "", "parent department code")
	kind := fs.String("kind", tongban.DeptBureau, "bureau, street, centre or supervision")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 2, u); err != nil {
		return err
	}
	e, closeFn, err := sf.openEngine(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	d := &tongban.Department{Code: pos[0], Name: pos[1], Parent: *parent, Kind: *kind}
	if err := e.AddDepartment(ctx, d); err != nil {
		return err
	}
	fmt.Fprintf(out, "department %s %s added\n", d.Code, d.Name)
	return nil
}

func cmdUserAdd(ctx context.Context, args []string, stdin io.Reader, out io.Writer) error {
	const u = "user add LOGIN --dept CODE --role ROLE[,ROLE…] [--name NAME] --password-stdin"
	fs := newFlags("user add", u, "Add a user. Roles: intake, dispatcher, handler, head, supervisor, leader, admin.", out)
	sf := addStoreFlags(fs)
	dept := fs.String("dept", "", "department code (required)")
	roles := fs.String("role", "", "comma-separated roles (required)")
	name := fs.String("name", "", "display name (default: the login)")
	phone := fs.String("phone", "", "phone number")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, u); err != nil {
		return err
	}
	if !*pwStdin {
		return fmt.Errorf("--password-stdin is required: passwords never go on the command line")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	pw := strings.TrimRight(line, "\r\n")
	if *name == "" {
		*name = pos[0]
	}
	e, closeFn, err := sf.openEngine(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	ch := engine.UserChange{Name: name, Dept: dept, Roles: roles, Password: &pw}
	if *phone != "" {
		ch.Phone = phone
	}
	usr, err := e.AddUser(ctx, pos[0], ch)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "user %s added (id %d)\n", usr.Login, usr.ID)
	return nil
}

func cmdAPIKeyAdd(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	fs := newFlags("apikey add", "apikey add NAME", "Create an API key for a machine client (an Open311 app, a partner system). The key is printed once.", out)
	sf := addStoreFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "apikey add NAME"); err != nil {
		return err
	}
	e, closeFn, err := sf.openEngine(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	key, _, err := e.NewAPIKey(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(out, key)
	return nil
}

func cmdBackup(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	fs := newFlags("backup", "backup FILE", "Write a consistent copy of the live database to FILE while the server keeps running.\n"+
		"SQLite: a copy of the database file (VACUUM INTO). PostgreSQL: a tongban dump (see tongban dump --help;\n"+
		"FILE.gz compresses it; restore with tongban load); pg_dump -Fc is the alternative.", out)
	sf := addStoreFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "backup FILE"); err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if sf.isPostgres() {
		return writeDump(ctx, st, pos[0], out)
	}
	start := time.Now()
	if err := st.Backup(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(out, "backup written to %s in %s\n", pos[0], time.Since(start).Round(time.Millisecond))
	return nil
}

// calendarFlags opens the store only for its calendar overrides when
// --data/--db point at one; plain arithmetic needs no store.
func loadCalendar(ctx context.Context, sf *storeFlags, useStore bool) (*calendar.Calendar, func(), error) {
	if !useStore {
		return calendar.Default(), func() {}, nil
	}
	e, closeFn, err := sf.openEngine(ctx)
	if err != nil {
		return nil, nil, err
	}
	return e.Calendar(), closeFn, nil
}

func cmdWorkdaysAdd(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	const u = "workdays add DATE N"
	fs := newFlags("workdays add", u, "Print the date N working days after DATE (YYYY-MM-DD); DATE itself is not counted, as in Chinese law. N may be negative.", out)
	sf := addStoreFlags(fs)
	useStore := fs.Bool("overrides", false, "also apply the store's calendar overrides")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 2, u); err != nil {
		return err
	}
	d, err := calendar.ParseDate(pos[0])
	if err != nil {
		return tongban.FieldError("date", "日期格式应为 YYYY-MM-DD："+pos[0], "date must be YYYY-MM-DD: "+pos[0])
	}
	var n int
	if _, err := fmt.Sscanf(pos[1], "%d", &n); err != nil || fmt.Sprint(n) != strings.TrimPrefix(pos[1], "+") || n < -3650 || n > 3650 {
		return tongban.FieldError("n", "N 须为 -3650 到 3650 的整数："+pos[1], "N must be an integer in -3650..3650: "+pos[1])
	}
	cal, closeFn, err := loadCalendar(ctx, sf, *useStore)
	if err != nil {
		return err
	}
	defer closeFn()
	r := cal.AddWorkdays(d, n)
	fmt.Fprintln(out, r.Format("2006-01-02"))
	if cal.Provisional(r.Year()) {
		fmt.Fprintf(os.Stderr, "note: %d has no published holiday schedule; weekends only (provisional)\n", r.Year())
	}
	return nil
}

func cmdWorkdaysBetween(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	const u = "workdays between A B"
	fs := newFlags("workdays between", u, "Print the number of working days after A up to and including B (negative if B is before A).", out)
	sf := addStoreFlags(fs)
	useStore := fs.Bool("overrides", false, "also apply the store's calendar overrides")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 2, u); err != nil {
		return err
	}
	a, err := calendar.ParseDate(pos[0])
	if err != nil {
		return tongban.FieldError("a", "日期格式应为 YYYY-MM-DD："+pos[0], "date must be YYYY-MM-DD: "+pos[0])
	}
	b, err := calendar.ParseDate(pos[1])
	if err != nil {
		return tongban.FieldError("b", "日期格式应为 YYYY-MM-DD："+pos[1], "date must be YYYY-MM-DD: "+pos[1])
	}
	cal, closeFn, err := loadCalendar(ctx, sf, *useStore)
	if err != nil {
		return err
	}
	defer closeFn()
	fmt.Fprintln(out, cal.WorkdaysBetween(a, b))
	return nil
}
