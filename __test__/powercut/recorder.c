/*
 * powercut recorder: a FUSE pass-through file system (libfuse3, high-level
 * API) that records, in the order it serves them, every request that changes
 * what a power cut could leave on disk: create, mkdir, write (with its bytes),
 * truncate, fsync / fdatasync, fsync of a directory, rename (with its
 * renameat2 flags: RENAME_EXCHANGE, RENAME_NOREPLACE), unlink, rmdir, link,
 * symlink, chmod, fallocate. __test__/powercut.spec.js builds crash states from
 * the recording (__test__/powercut/model.js).
 *
 *   recorder <backing dir> <mount point> <log file> [fuse options, e.g. -f -s]
 *
 * Run single-threaded (-s): requests are then served one at a time, so the
 * log's order is the order in which they took effect. The log is JSON lines,
 * written and flushed before each reply:
 *
 *   {"op":"create","path":"/a/f","id":7,"mode":384}
 *   {"op":"write","id":7,"off":0,"data":"<base64>"}
 *   {"op":"fsync","id":7,"datasync":1}
 *   {"op":"fsyncdir","path":"/a","id":3}
 *   {"op":"rename","from":"/a/.f.tmp","to":"/a/f","flags":2}
 *   {"op":"mark","name":"begin-3"}
 *
 * `id`s name file-system objects (inodes) for the whole recording: a new one
 * for each create/mkdir/symlink, so an inode number the backing file system
 * reuses is still a new object. A lookup of `/.powercut-mark-<name>` (a name
 * that never exists) records a mark: the workload stats such a name right
 * after an acknowledgement (a `set` that returned, a flush() that resolved),
 * so the mark sits in the log after every request that made it durable.
 * Failed requests are recorded with "err" (the model skips them).
 *
 * The kernel caches nothing it would otherwise answer itself (entry, attribute
 * and negative timeouts 0) and writes go through (no writeback cache), so each
 * write(2), fsync(2), rename(2) of the workload is one request here.
 * Locks (flock, fcntl) are left to the kernel (no lock operations), which
 * then keeps them locally, as on a local file system.
 */

#define FUSE_USE_VERSION 31
#define _GNU_SOURCE

#include <fuse.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static int backing = -1;   /* the backing directory */
static FILE *logf = NULL;  /* the recording */
static long next_id = 2;   /* 1 is the root */

static const char MARK[] = "/.powercut-mark-";

/* -- object ids: backing inode number -> id of the live object ------------ */

struct idmap {
	ino_t ino;
	long id;
};
static struct idmap *ids = NULL;
static size_t n_ids = 0, cap_ids = 0;

static long id_of_ino(ino_t ino)
{
	for (size_t i = 0; i < n_ids; i++)
		if (ids[i].ino == ino)
			return ids[i].id;
	return 0;
}

static void set_id(ino_t ino, long id)
{
	for (size_t i = 0; i < n_ids; i++)
		if (ids[i].ino == ino) {
			ids[i].id = id;
			return;
		}
	if (n_ids == cap_ids) {
		cap_ids = cap_ids ? cap_ids * 2 : 256;
		ids = realloc(ids, cap_ids * sizeof *ids);
		if (!ids)
			abort();
	}
	ids[n_ids].ino = ino;
	ids[n_ids].id = id;
	n_ids++;
}

/* A fresh id for the object now at `ino` (just created). */
static long new_id(ino_t ino)
{
	long id = next_id++;
	set_id(ino, id);
	return id;
}

/* The backing path of a FUSE path ("/a/b" -> "a/b", "/" -> "."). */
static const char *rel(const char *path)
{
	if (path == NULL)
		return NULL;
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

/* The id of the object at `path` (0 when there is none). */
static long id_at(const char *path)
{
	struct stat st;
	if (fstatat(backing, rel(path), &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	return id_of_ino(st.st_ino);
}

/* -- the log ----------------------------------------------------------------- */

static void put_str(const char *key, const char *s)
{
	fprintf(logf, ",\"%s\":\"", key);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(logf, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(logf, "\\u%04x", *p);
		else
			fputc(*p, logf);
	}
	fputc('"', logf);
}

static void put_b64(const char *key, const unsigned char *d, size_t n)
{
	static const char t[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	fprintf(logf, ",\"%s\":\"", key);
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
		fputc(t[v >> 18], logf);
		fputc(t[(v >> 12) & 63], logf);
		fputc(t[(v >> 6) & 63], logf);
		fputc(t[v & 63], logf);
	}
	if (i + 1 == n) {
		uint32_t v = d[i] << 16;
		fputc(t[v >> 18], logf);
		fputc(t[(v >> 12) & 63], logf);
		fputs("==", logf);
	} else if (i + 2 == n) {
		uint32_t v = (d[i] << 16) | (d[i + 1] << 8);
		fputc(t[v >> 18], logf);
		fputc(t[(v >> 12) & 63], logf);
		fputc(t[(v >> 6) & 63], logf);
		fputc('=', logf);
	}
	fputc('"', logf);
}

static void begin(const char *op)
{
	fprintf(logf, "{\"op\":\"%s\"", op);
}

/* Ends a record: `res` is 0 or -errno. */
static int end(int res)
{
	if (res < 0)
		fprintf(logf, ",\"err\":%d", -res);
	fputs("}\n", logf);
	fflush(logf);
	return res;
}

/* -- open files ---------------------------------------------------------------- */

struct handle {
	int fd;
	long id;
};

static struct handle *fh(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

/* -- operations ---------------------------------------------------------------- */

static void *rec_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->use_ino = 1;
	cfg->nullpath_ok = 1;
	cfg->hard_remove = 1; /* no .fuse_hidden renames in the recording */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->kernel_cache = 0;
	/* the parent waits for this line: the mount is live */
	printf("ready\n");
	fflush(stdout);
	return NULL;
}

static int rec_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	if (fi)
		return fstat(fh(fi)->fd, st) == -1 ? -errno : 0;
	if (strncmp(path, MARK, sizeof MARK - 1) == 0) {
		begin("mark");
		put_str("name", path + sizeof MARK - 1);
		end(0);
		return -ENOENT;
	}
	return fstatat(backing, rel(path), st, AT_SYMLINK_NOFOLLOW) == -1 ? -errno : 0;
}

static int rec_access(const char *path, int mask)
{
	return faccessat(backing, rel(path), mask, 0) == -1 ? -errno : 0;
}

static int rec_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(backing, rel(path), buf, size - 1);
	if (n == -1)
		return -errno;
	buf[n] = '\0';
	return 0;
}

struct dirh {
	DIR *dp;
	struct dirent *entry;
	off_t offset;
};

static int rec_opendir(const char *path, struct fuse_file_info *fi)
{
	int fd = openat(backing, rel(path), O_RDONLY | O_DIRECTORY);
	if (fd == -1)
		return -errno;
	struct dirh *d = calloc(1, sizeof *d);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	d->dp = fdopendir(fd);
	if (!d->dp) {
		int e = errno;
		close(fd);
		free(d);
		return -e;
	}
	fi->fh = (uintptr_t)d;
	return 0;
}

static struct dirh *dh(struct fuse_file_info *fi)
{
	return (struct dirh *)(uintptr_t)fi->fh;
}

static int rec_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
		       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)path;
	(void)flags;
	struct dirh *d = dh(fi);
	if (offset != d->offset) {
		seekdir(d->dp, offset);
		d->entry = NULL;
		d->offset = offset;
	}
	for (;;) {
		if (!d->entry) {
			d->entry = readdir(d->dp);
			if (!d->entry)
				break;
		}
		struct stat st;
		memset(&st, 0, sizeof st);
		st.st_ino = d->entry->d_ino;
		st.st_mode = d->entry->d_type << 12;
		off_t next = telldir(d->dp);
		if (filler(buf, d->entry->d_name, &st, next, 0))
			break;
		d->entry = NULL;
		d->offset = next;
	}
	return 0;
}

static int rec_releasedir(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	closedir(dh(fi)->dp);
	free(dh(fi));
	return 0;
}

static int rec_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	int res = (datasync ? fdatasync(dirfd(dh(fi)->dp)) : fsync(dirfd(dh(fi)->dp))) == -1 ? -errno : 0;
	struct stat st;
	long id = fstat(dirfd(dh(fi)->dp), &st) == 0 ? id_of_ino(st.st_ino) : 0;
	begin("fsyncdir");
	if (path)
		put_str("path", path);
	fprintf(logf, ",\"id\":%ld,\"datasync\":%d", id, datasync ? 1 : 0);
	return end(res);
}

static int rec_mkdir(const char *path, mode_t mode)
{
	int res = mkdirat(backing, rel(path), mode) == -1 ? -errno : 0;
	struct stat st;
	long id = 0;
	if (res == 0 && fstatat(backing, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0)
		id = new_id(st.st_ino);
	begin("mkdir");
	put_str("path", path);
	fprintf(logf, ",\"id\":%ld,\"mode\":%u", id, (unsigned)(mode & 07777));
	return end(res);
}

static int rec_mknod(const char *path, mode_t mode, dev_t rdev)
{
	if (!S_ISREG(mode))
		return -EPERM; /* only regular files are modelled */
	int res = mknodat(backing, rel(path), mode, rdev) == -1 ? -errno : 0;
	struct stat st;
	long id = 0;
	if (res == 0 && fstatat(backing, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0)
		id = new_id(st.st_ino);
	begin("create");
	put_str("path", path);
	fprintf(logf, ",\"id\":%ld,\"mode\":%u", id, (unsigned)(mode & 07777));
	return end(res);
}

static int rec_unlink(const char *path)
{
	long id = id_at(path);
	int res = unlinkat(backing, rel(path), 0) == -1 ? -errno : 0;
	begin("unlink");
	put_str("path", path);
	fprintf(logf, ",\"id\":%ld", id);
	return end(res);
}

static int rec_rmdir(const char *path)
{
	long id = id_at(path);
	int res = unlinkat(backing, rel(path), AT_REMOVEDIR) == -1 ? -errno : 0;
	begin("rmdir");
	put_str("path", path);
	fprintf(logf, ",\"id\":%ld", id);
	return end(res);
}

static int rec_symlink(const char *target, const char *path)
{
	int res = symlinkat(target, backing, rel(path)) == -1 ? -errno : 0;
	struct stat st;
	long id = 0;
	if (res == 0 && fstatat(backing, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0)
		id = new_id(st.st_ino);
	begin("symlink");
	put_str("path", path);
	put_str("target", target);
	fprintf(logf, ",\"id\":%ld", id);
	return end(res);
}

static int rec_rename(const char *from, const char *to, unsigned int flags)
{
	long id_from = id_at(from), id_to = id_at(to);
	int res = renameat2(backing, rel(from), backing, rel(to), flags) == -1 ? -errno : 0;
	begin("rename");
	put_str("from", from);
	put_str("to", to);
	fprintf(logf, ",\"flags\":%u,\"id\":%ld,\"replaced\":%ld", flags, id_from, id_to);
	return end(res);
}

static int rec_link(const char *from, const char *to)
{
	long id = id_at(from);
	int res = linkat(backing, rel(from), backing, rel(to), 0) == -1 ? -errno : 0;
	begin("link");
	put_str("from", from);
	put_str("to", to);
	fprintf(logf, ",\"id\":%ld", id);
	return end(res);
}

static int rec_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	long id;
	int res;
	if (fi) {
		id = fh(fi)->id;
		res = fchmod(fh(fi)->fd, mode) == -1 ? -errno : 0;
	} else {
		id = id_at(path);
		res = fchmodat(backing, rel(path), mode, 0) == -1 ? -errno : 0;
	}
	begin("chmod");
	fprintf(logf, ",\"id\":%ld,\"mode\":%u", id, (unsigned)(mode & 07777));
	return end(res);
}

static int rec_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	if (fi)
		return fchown(fh(fi)->fd, uid, gid) == -1 ? -errno : 0;
	return fchownat(backing, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW) == -1 ? -errno : 0;
}

static int rec_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	long id;
	int res;
	if (fi) {
		id = fh(fi)->id;
		res = ftruncate(fh(fi)->fd, size) == -1 ? -errno : 0;
	} else {
		id = id_at(path);
		int fd = openat(backing, rel(path), O_WRONLY);
		res = fd == -1 ? -errno : (ftruncate(fd, size) == -1 ? -errno : 0);
		if (fd != -1)
			close(fd);
	}
	begin("truncate");
	fprintf(logf, ",\"id\":%ld,\"size\":%lld", id, (long long)size);
	return end(res);
}

static int rec_utimens(const char *path, const struct timespec ts[2], struct fuse_file_info *fi)
{
	if (fi)
		return futimens(fh(fi)->fd, ts) == -1 ? -errno : 0;
	return utimensat(backing, rel(path), ts, AT_SYMLINK_NOFOLLOW) == -1 ? -errno : 0;
}

/* Opens the backing file: positioned writes only (the kernel gives the
 * offset, also for O_APPEND), so the offset recorded is where the bytes went. */
static int open_backing(const char *path, int flags, mode_t mode)
{
	return openat(backing, rel(path), flags & ~O_APPEND, mode);
}

static int rec_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct stat st;
	int existed = fstatat(backing, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0;
	int fd = open_backing(path, fi->flags, mode);
	int res = fd == -1 ? -errno : 0;
	long id = 0;
	if (res == 0) {
		fstat(fd, &st);
		id = existed ? id_of_ino(st.st_ino) : new_id(st.st_ino);
		struct handle *h = malloc(sizeof *h);
		if (!h)
			abort();
		h->fd = fd;
		h->id = id;
		fi->fh = (uintptr_t)h;
	}
	begin(existed ? "open" : "create");
	put_str("path", path);
	fprintf(logf, ",\"id\":%ld,\"mode\":%u,\"trunc\":%d", id, (unsigned)(mode & 07777),
		existed && (fi->flags & O_TRUNC) ? 1 : 0);
	return end(res);
}

static int rec_open(const char *path, struct fuse_file_info *fi)
{
	int fd = open_backing(path, fi->flags, 0);
	int res = fd == -1 ? -errno : 0;
	long id = 0;
	if (res == 0) {
		struct stat st;
		fstat(fd, &st);
		id = id_of_ino(st.st_ino);
		struct handle *h = malloc(sizeof *h);
		if (!h)
			abort();
		h->fd = fd;
		h->id = id;
		fi->fh = (uintptr_t)h;
	}
	/* an open that changes nothing is recorded only when it truncates */
	if ((fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY) {
		begin("open");
		put_str("path", path);
		fprintf(logf, ",\"id\":%ld,\"trunc\":1", id);
		return end(res);
	}
	return res;
}

static int rec_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)path;
	ssize_t n = pread(fh(fi)->fd, buf, size, off);
	return n == -1 ? -errno : (int)n;
}

static int rec_write(const char *path, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)path;
	ssize_t n = pwrite(fh(fi)->fd, buf, size, off);
	int res = n == -1 ? -errno : 0;
	begin("write");
	fprintf(logf, ",\"id\":%ld,\"off\":%lld", fh(fi)->id, (long long)off);
	put_b64("data", (const unsigned char *)buf, n > 0 ? (size_t)n : 0);
	end(res);
	return n == -1 ? res : (int)n;
}

static int rec_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	return fstatvfs(backing, st) == -1 ? -errno : 0;
}

static int rec_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return 0;
}

static int rec_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close(fh(fi)->fd);
	free(fh(fi));
	return 0;
}

static int rec_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	int res = (datasync ? fdatasync(fh(fi)->fd) : fsync(fh(fi)->fd)) == -1 ? -errno : 0;
	begin("fsync");
	fprintf(logf, ",\"id\":%ld,\"datasync\":%d", fh(fi)->id, datasync ? 1 : 0);
	return end(res);
}

static int rec_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	(void)path;
	if (mode)
		return -EOPNOTSUPP;
	int res = -posix_fallocate(fh(fi)->fd, off, len);
	begin("fallocate");
	fprintf(logf, ",\"id\":%ld,\"off\":%lld,\"len\":%lld", fh(fi)->id, (long long)off,
		(long long)len);
	return end(res);
}

static const struct fuse_operations ops = {
	.init = rec_init,
	.getattr = rec_getattr,
	.access = rec_access,
	.readlink = rec_readlink,
	.opendir = rec_opendir,
	.readdir = rec_readdir,
	.releasedir = rec_releasedir,
	.fsyncdir = rec_fsyncdir,
	.mknod = rec_mknod,
	.mkdir = rec_mkdir,
	.symlink = rec_symlink,
	.unlink = rec_unlink,
	.rmdir = rec_rmdir,
	.rename = rec_rename,
	.link = rec_link,
	.chmod = rec_chmod,
	.chown = rec_chown,
	.truncate = rec_truncate,
	.utimens = rec_utimens,
	.create = rec_create,
	.open = rec_open,
	.read = rec_read,
	.write = rec_write,
	.statfs = rec_statfs,
	.flush = rec_flush,
	.release = rec_release,
	.fsync = rec_fsync,
	.fallocate = rec_fallocate,
};

int main(int argc, char *argv[])
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s <backing dir> <mount point> <log file> [fuse options]\n", argv[0]);
		return 2;
	}
	backing = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (backing == -1) {
		perror(argv[1]);
		return 2;
	}
	logf = fopen(argv[3], "w");
	if (!logf) {
		perror(argv[3]);
		return 2;
	}
	{
		struct stat st;
		fstat(backing, &st);
		set_id(st.st_ino, 1);
	}
	/* modes arrive with the caller's umask already applied */
	umask(0);
	/* fuse_main(argv0, mount point, options...) */
	char **fargv = calloc(argc, sizeof *fargv);
	if (!fargv)
		abort();
	int fargc = 0;
	fargv[fargc++] = argv[0];
	fargv[fargc++] = argv[2];
	for (int i = 4; i < argc; i++)
		fargv[fargc++] = argv[i];
	int res = fuse_main(fargc, fargv, &ops, NULL);
	if (fclose(logf) != 0)
		res = 1;
	return res;
}
