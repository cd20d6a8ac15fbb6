package io.mocostream.encoder.format;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Checks on a trusted-key path before its keys are believed. Whoever can write the file, or replace
 * it through its directory, chooses which models a subscriber loads, so a trust file must be one
 * explicit file (a directory would trust whatever {@code *.pub} someone drops into it) and neither
 * it nor its directory may be writable by the group or by others. Symbolic links are followed and
 * both the link's and the target's directories are checked. On a file system without POSIX
 * permissions the check is skipped.
 */
final class TrustPaths {
  private TrustPaths() {}

  /**
   * @throws IllegalArgumentException naming the path and the fix when {@code file} is a directory,
   *     missing, or it or its directory is group- or world-writable
   */
  static void check(Path file) {
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException(
          "trusted key path "
              + file
              + " is a directory: trust one explicit public"
              + " key file, e.g. "
              + file.resolve(ModelSigning.PUBLIC_KEY_FILE)
              + " (to trust several keys, put their"
              + " PUBLIC KEY blocks in one file); a directory would trust any .pub file someone adds to it");
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          "trusted key path " + file + " is not a file (missing or unreadable)");
    }
    Set<Path> checked = new LinkedHashSet<>();
    Path given = file.toAbsolutePath().normalize();
    checked.add(given);
    checked.add(given.getParent());
    try {
      Path real = file.toRealPath();
      checked.add(real);
      checked.add(real.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot resolve trusted key path " + file, e);
    }
    for (Path p : checked) {
      if (p == null) {
        continue;
      }
      PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
      if (view == null) {
        return; // not a POSIX file system: nothing to check with
      }
      Set<PosixFilePermission> perms;
      try {
        perms = view.readAttributes().permissions();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the permissions of trusted key path " + p, e);
      }
      if (perms.contains(PosixFilePermission.GROUP_WRITE)
          || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
        String what =
            Files.isDirectory(p)
                ? "the directory " + p + " of trusted key file " + file
                : "trusted key file " + p;
        throw new IllegalArgumentException(
            what
                + " is writable by "
                + (perms.contains(PosixFilePermission.OTHERS_WRITE) ? "everyone" : "its group")
                + " ("
                + PosixFilePermissions.toString(perms)
                + "), so anyone there could"
                + " choose the models this process loads; remove the write bit (chmod go-w "
                + p
                + ") or keep the key"
                + " elsewhere");
      }
    }
  }
}
