/*
 * A stand-in for illumos libdlpi on Linux, for tests only: the same C entry points and struct
 * layouts as <libdlpi.h> (transcribed below with illumos' fixed-width types for amd64), backed
 * by an AF_PACKET socket. It lets ffi/dlpi.ts be exercised through Deno.dlopen exactly as it
 * would load libdlpi.so.1. Only raw mode (DLPI_RAW) is implemented, the mode xdeno uses.
 *
 * Build: gcc -O2 -shared -fPIC -o libdlpi_shim.so ffi/dlpi_shim.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- illumos ABI (sys/dlpi.h, libdlpi.h) on amd64: uint_t, t_uscalar_t = uint32_t --- */
typedef uint32_t uint_t;
typedef int32_t t_scalar_t;
typedef uint32_t t_uscalar_t;
typedef unsigned char uchar_t;

#define DLPI_PHYSADDR_MAX 64
#define DLPI_LINKNAME_MAX 32
#define DLPI_ANY_SAP ((uint_t)-1)
#define DLPI_RAW 0x0004
#define DL_SYSERR 0x04
#define DL_PROMISC_PHYS 0x01
#define DL_PROMISC_SAP 0x02
#define DL_PROMISC_MULTI 0x03
#define DL_CURR_PHYS_ADDR 0x02
#define DL_FACT_PHYS_ADDR 0x01
#define DL_IDLE 0x03
#define DL_ETHER 0x04

enum {
	DLPI_SUCCESS = 10000, DLPI_EINVAL, DLPI_ELINKNAMEINVAL, DLPI_ENOLINK, DLPI_EBADLINK,
	DLPI_EINHANDLE, DLPI_ETIMEDOUT, DLPI_EVERNOTSUP, DLPI_EMODENOTSUP, DLPI_EUNAVAILSAP,
	DLPI_FAILURE, DLPI_ENOTSTYLE2, DLPI_EBADMSG, DLPI_ERAWNOTSUP, DLPI_ENOTEINVAL,
	DLPI_ENOTENOTSUP, DLPI_ENOTEIDINVAL, DLPI_ERRMAX
};

typedef struct { t_scalar_t dl_min; t_scalar_t dl_max; } dl_priority_t;
typedef struct { t_scalar_t dl_target_value; t_scalar_t dl_accept_value; } dl_transdelay_t;
typedef struct { t_scalar_t dl_min; t_scalar_t dl_max; } dl_protect_t;
typedef struct {
	t_uscalar_t dl_qos_type;
	t_scalar_t dl_trans_delay;
	t_scalar_t dl_priority;
	t_scalar_t dl_protection;
	t_scalar_t dl_residual_error;
} dl_qos_cl_sel1_t;
typedef struct {
	t_uscalar_t dl_qos_type;
	dl_transdelay_t dl_trans_delay;
	dl_priority_t dl_priority;
	dl_protect_t dl_protection;
	t_scalar_t dl_residual_error;
} dl_qos_cl_range1_t;

typedef struct {
	uint_t di_opts;
	uint_t di_max_sdu;
	uint_t di_min_sdu;
	uint_t di_state;
	uint_t di_mactype;
	char di_linkname[DLPI_LINKNAME_MAX];
	uchar_t di_physaddr[DLPI_PHYSADDR_MAX];
	uchar_t di_physaddrlen;
	uchar_t di_bcastaddr[DLPI_PHYSADDR_MAX];
	uchar_t di_bcastaddrlen;
	uint_t di_sap;
	int di_timeout;
	dl_qos_cl_sel1_t di_qos_sel;
	dl_qos_cl_range1_t di_qos_range;
} dlpi_info_t;

typedef struct { uint_t dsi_sap; dl_priority_t dsi_prio; } dlpi_sendinfo_t;
typedef enum { DLPI_ADDRTYPE_UNICAST, DLPI_ADDRTYPE_GROUP } dlpi_addrtype_t;
typedef struct {
	uchar_t dri_destaddr[DLPI_PHYSADDR_MAX];
	uchar_t dri_destaddrlen;
	dlpi_addrtype_t dri_destaddrtype;
	size_t dri_totmsglen;
} dlpi_recvinfo_t;

typedef struct __dlpi_handle *dlpi_handle_t;

/* --- the Linux implementation --- */
struct __dlpi_handle {
	int fd;
	int ifindex;
	uint_t flags;
	uint_t sap;
	int mtu;
	uchar_t mac[6];
	char linkname[DLPI_LINKNAME_MAX];
};

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

static int ifreq_ioctl(int fd, const char *name, unsigned long req, struct ifreq *r) {
	memset(r, 0, sizeof (*r));
	strncpy(r->ifr_name, name, IFNAMSIZ - 1);
	return ioctl(fd, req, r);
}

int dlpi_open(const char *linkname, dlpi_handle_t *dhp, uint_t flags) {
	if (linkname == NULL || dhp == NULL) return DLPI_EINVAL;
	if (strlen(linkname) >= IFNAMSIZ) return DLPI_ELINKNAMEINVAL;
	if (!(flags & DLPI_RAW)) return DLPI_ERAWNOTSUP;
	int idx = (int)if_nametoindex(linkname);
	if (idx == 0) return DLPI_ENOLINK;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) return DL_SYSERR;
	struct __dlpi_handle *h = calloc(1, sizeof (*h));
	struct ifreq r;
	if (h == NULL || ifreq_ioctl(fd, linkname, SIOCGIFHWADDR, &r) < 0) {
		int e = errno;
		free(h);
		close(fd);
		errno = e;
		return DL_SYSERR;
	}
	/* a STREAMS queue buffers bursts; the default socket queue (~100 frames) does not */
	int rcv = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof (rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof (rcv));
	memcpy(h->mac, r.ifr_hwaddr.sa_data, 6);
	h->mtu = ifreq_ioctl(fd, linkname, SIOCGIFMTU, &r) < 0 ? 1500 : r.ifr_mtu;
	h->fd = fd;
	h->ifindex = idx;
	h->flags = flags;
	h->sap = DLPI_ANY_SAP;
	strncpy(h->linkname, linkname, DLPI_LINKNAME_MAX - 1);
	*dhp = h;
	return DLPI_SUCCESS;
}

void dlpi_close(dlpi_handle_t dh) {
	if (dh == NULL) return;
	close(dh->fd);
	free(dh);
}

int dlpi_bind(dlpi_handle_t dh, uint_t sap, uint_t *boundsap) {
	if (dh == NULL) return DLPI_EINHANDLE;
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof (sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(sap == DLPI_ANY_SAP ? ETH_P_ALL : (uint16_t)sap);
	sll.sll_ifindex = dh->ifindex;
	int one = 1;
	setsockopt(dh->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof (one));
	if (bind(dh->fd, (struct sockaddr *)&sll, sizeof (sll)) < 0) return DL_SYSERR;
	dh->sap = sap;
	if (boundsap != NULL) *boundsap = sap;
	return DLPI_SUCCESS;
}

int dlpi_promiscon(dlpi_handle_t dh, uint_t level) {
	if (dh == NULL) return DLPI_EINHANDLE;
	struct packet_mreq m;
	memset(&m, 0, sizeof (m));
	m.mr_ifindex = dh->ifindex;
	switch (level) {
	case DL_PROMISC_PHYS: m.mr_type = PACKET_MR_PROMISC; break;
	case DL_PROMISC_MULTI: m.mr_type = PACKET_MR_ALLMULTI; break;
	case DL_PROMISC_SAP: return DLPI_SUCCESS; /* already bound to every SAP */
	default: return DLPI_EINVAL;
	}
	if (setsockopt(dh->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &m, sizeof (m)) < 0)
		return DL_SYSERR;
	return DLPI_SUCCESS;
}

int dlpi_recv(dlpi_handle_t dh, void *saddrp, size_t *saddrlenp, void *msgbuf, size_t *msglenp,
    int msec, dlpi_recvinfo_t *recvp) {
	if (dh == NULL) return DLPI_EINHANDLE;
	if (msgbuf == NULL || msglenp == NULL) return DLPI_EINVAL;
	struct pollfd p = { .fd = dh->fd, .events = POLLIN };
	int r = poll(&p, 1, msec);
	if (r < 0) return DL_SYSERR;
	if (r == 0) return DLPI_ETIMEDOUT;
	ssize_t n = recv(dh->fd, msgbuf, *msglenp, MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0) return errno == EAGAIN ? DLPI_ETIMEDOUT : DL_SYSERR;
	size_t got = (size_t)n < *msglenp ? (size_t)n : *msglenp;
	if (saddrp != NULL && saddrlenp != NULL && *saddrlenp >= 6 && got >= 12) {
		memcpy(saddrp, (uchar_t *)msgbuf + 6, 6);
		*saddrlenp = 6;
	}
	if (recvp != NULL) {
		memset(recvp, 0, sizeof (*recvp));
		if (got >= 6) {
			memcpy(recvp->dri_destaddr, msgbuf, 6);
			recvp->dri_destaddrlen = 6;
			recvp->dri_destaddrtype = (((uchar_t *)msgbuf)[0] & 1) ?
			    DLPI_ADDRTYPE_GROUP : DLPI_ADDRTYPE_UNICAST;
		}
		recvp->dri_totmsglen = (size_t)n;
	}
	*msglenp = got;
	return DLPI_SUCCESS;
}

int dlpi_send(dlpi_handle_t dh, const void *daddrp, size_t daddrlen, const void *msgbuf,
    size_t msglen, const dlpi_sendinfo_t *sendp) {
	(void)daddrp; (void)daddrlen; (void)sendp; /* raw mode: the frame carries its header */
	if (dh == NULL) return DLPI_EINHANDLE;
	if (msgbuf == NULL) return DLPI_EINVAL;
	if (send(dh->fd, msgbuf, msglen, MSG_DONTWAIT) < 0) return DL_SYSERR;
	return DLPI_SUCCESS;
}

int dlpi_get_physaddr(dlpi_handle_t dh, uint_t type, void *addrp, size_t *addrlenp) {
	if (dh == NULL) return DLPI_EINHANDLE;
	if (addrp == NULL || addrlenp == NULL || *addrlenp < 6) return DLPI_EINVAL;
	if (type != DL_CURR_PHYS_ADDR && type != DL_FACT_PHYS_ADDR) return DLPI_EINVAL;
	memcpy(addrp, dh->mac, 6);
	*addrlenp = 6;
	return DLPI_SUCCESS;
}

int dlpi_info(dlpi_handle_t dh, dlpi_info_t *infop, uint_t opt) {
	if (dh == NULL) return DLPI_EINHANDLE;
	if (infop == NULL || opt != 0) return DLPI_EINVAL;
	memset(infop, 0, sizeof (*infop));
	infop->di_max_sdu = (uint_t)dh->mtu;
	infop->di_state = DL_IDLE;
	infop->di_mactype = DL_ETHER;
	memcpy(infop->di_linkname, dh->linkname, DLPI_LINKNAME_MAX);
	memcpy(infop->di_physaddr, dh->mac, 6);
	infop->di_physaddrlen = 6;
	memset(infop->di_bcastaddr, 0xff, 6);
	infop->di_bcastaddrlen = 6;
	infop->di_sap = dh->sap;
	infop->di_timeout = 5;
	return DLPI_SUCCESS;
}

int dlpi_fd(dlpi_handle_t dh) {
	return dh == NULL ? -1 : dh->fd;
}

const char *dlpi_strerror(int err) {
	static const char *msgs[] = {
		"DLPI operation succeeded", "invalid argument", "invalid DLPI linkname",
		"DLPI link does not exist", "bad DLPI link", "invalid DLPI handle",
		"DLPI operation timed out", "unsupported DLPI version",
		"unsupported DLPI connection mode", "unavailable DLPI SAP", "DLPI operation failed",
		"DLPI style-2 node reports style-1", "bad DLPI message", "DLPI raw mode not supported",
		"invalid DLPI notification type", "DLPI notification not supported by link",
		"invalid DLPI notification id",
	};
	static __thread char buf[64];
	if (err == DL_SYSERR) return strerror(errno);
	if (err >= DLPI_SUCCESS && err < DLPI_ERRMAX) return msgs[err - DLPI_SUCCESS];
	snprintf(buf, sizeof (buf), "DLPI error %d", err);
	return buf;
}

/* Layout probe for tests: sizes and offsets of the ABI structs as this compiler lays them out. */
size_t dlpi_shim_layout(int i) {
	static const size_t v[] = {
		sizeof (dlpi_info_t), offsetof(dlpi_info_t, di_max_sdu),
		offsetof(dlpi_info_t, di_mactype), offsetof(dlpi_info_t, di_linkname),
		offsetof(dlpi_info_t, di_physaddr), offsetof(dlpi_info_t, di_physaddrlen),
		offsetof(dlpi_info_t, di_bcastaddr), offsetof(dlpi_info_t, di_bcastaddrlen),
		offsetof(dlpi_info_t, di_sap), offsetof(dlpi_info_t, di_timeout),
		offsetof(dlpi_info_t, di_qos_sel), offsetof(dlpi_info_t, di_qos_range),
		sizeof (dlpi_recvinfo_t), offsetof(dlpi_recvinfo_t, dri_destaddrlen),
		offsetof(dlpi_recvinfo_t, dri_destaddrtype), offsetof(dlpi_recvinfo_t, dri_totmsglen),
		sizeof (dlpi_sendinfo_t), offsetof(dlpi_sendinfo_t, dsi_prio),
	};
	return i >= 0 && i < (int)(sizeof (v) / sizeof (v[0])) ? v[i] : (size_t)-1;
}
